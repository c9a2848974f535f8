package bertj.tools.export;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import bertj.fixtures.Fixtures;
import bertj.engine.BertInput;
import bertj.engine.BertModel;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.kernels.ThreadPool;
import bertj.loader.BertCheckpoint;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxDataType;
import bertj.loader.onnx.OnnxExporter;
import bertj.loader.onnx.OnnxModel;
import bertj.loader.onnx.OnnxNode;
import bertj.loader.onnx.OnnxReader;
import bertj.loader.onnx.OnnxTensor;
import bertj.loader.onnx.OnnxValueInfo;
import bertj.tools.ModelArgument;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exports the fixture models and runs the ONNX files in ONNX Runtime: the outputs must match the float64
 * reference (bN.last_hidden_state, bN.pooler_output of reference.safetensors) and bertj's own forward pass.
 */
class OnnxExporterTest {
    /** Reference tolerance of the fixtures (README): a correct float32 implementation is within 1e-5. */
    private static final double REFERENCE_TOLERANCE = 1e-5;
    /**
     * tiny-bert-qa's sharp attention amplifies float32 rounding: a plain float32 evaluation with exact exp and
     * erf (numpy) is itself 1.6e-5 from its float64 reference, ONNX Runtime 2.1e-5. A wrong graph (an operand
     * order, a missing scale, a wrong epsilon) is off by far more.
     */
    private static final double QA_TOLERANCE = 4e-5;
    /** bertj and ONNX Runtime are each within the reference tolerance, so within twice it of each other. */
    private static final double ENGINE_TOLERANCE = 2 * REFERENCE_TOLERANCE;

    private static OrtEnvironment env;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startOrt() {
        env = OrtEnvironment.getEnvironment();
    }

    static Path fixture(String name) {
        return Fixtures.model(name);
    }

    @ParameterizedTest(name = "{0} ({1}) with graph optimization {2}")
    @CsvSource({
            "tiny-bert,                     'gelu, pooler',                           ALL_OPT",
            "tiny-bert,                     'gelu, pooler',                           NO_OPT",
            "tiny-bert-seqcls,              'gelu_new (tanh), bert. prefix, head ignored', ALL_OPT",
            "tiny-bert-bf16-sharded-legacy, 'relu, BF16 shards, LayerNorm.gamma/beta, eps 1e-5', ALL_OPT",
            "tiny-bert-qa,                  'no pooler, head size 24',                ALL_OPT",
    })
    void onnxRuntimeOnTheExportMatchesTheReference(String model, String covers, OptLevel level) throws Exception {
        Path onnx = tmp.resolve(model + ".onnx");
        OnnxExporter.export(fixture(model), onnx);
        double tolerance = model.equals("tiny-bert-qa") ? QA_TOLERANCE : REFERENCE_TOLERANCE;

        try (OrtSession session = session(onnx, level);
             SafetensorsFile reference = SafetensorsFile.open(fixture(model).resolve("reference.safetensors"))) {
            boolean hasPooler = reference.find("b0.pooler_output").isPresent();
            assertEquals(hasPooler ? Set.of("last_hidden_state", "pooler_output") : Set.of("last_hidden_state"),
                    session.getOutputNames());
            int batches = 0;
            for (String b = "b0."; reference.find(b + "input_ids").isPresent(); b = "b" + ++batches + ".") {
                Map<String, float[]> outputs = run(session, reference, b);
                assertClose(reference.tensor(b + "last_hidden_state").toFloatArray(), outputs.get("last_hidden_state"),
                        tolerance, model + " " + b + "last_hidden_state");
                if (hasPooler) {
                    assertClose(reference.tensor(b + "pooler_output").toFloatArray(), outputs.get("pooler_output"),
                            tolerance, model + " " + b + "pooler_output");
                }
            }
            assertTrue(batches >= 2, "the fixture has at least two reference batches, found " + batches);
        }
    }

    @ParameterizedTest
    @CsvSource({"tiny-bert", "tiny-bert-seqcls", "tiny-bert-bf16-sharded-legacy"})
    void onnxRuntimeOnTheExportMatchesBertj(String model) throws Exception {
        Path onnx = tmp.resolve(model + ".onnx");
        OnnxExporter.export(fixture(model), onnx);
        try (OrtSession session = session(onnx, OptLevel.ALL_OPT);
             SafetensorsFile reference = SafetensorsFile.open(fixture(model).resolve("reference.safetensors"));
             ThreadPool pool = new ThreadPool(1);
             BertModel bertj = BertModel.load(fixture(model), pool)) {
            for (String b : List.of("b0.", "b1.")) {
                Map<String, float[]> ort = run(session, reference, b);
                BaseModelOutputWithPooling ours = bertj.forward(input(reference, b));
                assertClose(flatten(ours.lastHiddenState()), ort.get("last_hidden_state"), ENGINE_TOLERANCE,
                        model + " " + b + "last_hidden_state, bertj vs ONNX Runtime");
                assertClose(flatten(new float[][][] {ours.poolerOutput()}), ort.get("pooler_output"), ENGINE_TOLERANCE, model + " " + b + "pooler_output, bertj vs ONNX Runtime");
            }
        }
    }

    /**
     * The default model is converted from the real torch export of all-MiniLM-L6-v2; exporting it back must give
     * a graph that computes the same outputs in ONNX Runtime, padded positions and token types included.
     */
    @Test
    void theExportOfTheDefaultModelComputesWhatTheRealTorchExportComputes() throws Exception {
        Path exported = tmp.resolve("minilm-export.onnx");
        OnnxExporter.export(ModelArgument.resolve("default"), exported);
        Path real = tmp.resolve("all-minilm-l6-v2.onnx");
        try (ZipFile jar = new ZipFile(System.getProperty("bertj.defaultModelSource"));
             InputStream onnx = jar.getInputStream(jar.getEntry("all-minilm-l6-v2.onnx"))) {
            Files.copy(onnx, real);
        }
        int batch = 2, seq = 24;
        long[] ids = new long[batch * seq], mask = new long[batch * seq], types = new long[batch * seq];
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int i = 0; i < ids.length; i++) {
            int position = i % seq;
            ids[i] = 1000 + random.nextInt(29_000);
            mask[i] = i < seq || position < 15 ? 1 : 0; // the second sequence is padded after 15 tokens
            types[i] = position >= 10 ? 1 : 0;
        }
        Map<String, ai.onnxruntime.OnnxTensor> inputs = Map.of(
                "input_ids", ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, seq}),
                "attention_mask", ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {batch, seq}),
                "token_type_ids", ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(types), new long[] {batch, seq}));
        try (OrtSession theirs = session(real, OptLevel.ALL_OPT);
             OrtSession ours = session(exported, OptLevel.ALL_OPT);
             OrtSession.Result expected = theirs.run(inputs);
             OrtSession.Result actual = ours.run(inputs)) {
            // the torch export names its outputs output_0 and 882
            assertClose(floats(expected.get(0)), floats(actual.get("last_hidden_state").orElseThrow()), REFERENCE_TOLERANCE,
                    "last_hidden_state, bertj's export vs the torch export");
            assertClose(floats(expected.get(1)), floats(actual.get("pooler_output").orElseThrow()), REFERENCE_TOLERANCE,
                    "pooler_output, bertj's export vs the torch export");
        } finally {
            inputs.values().forEach(ai.onnxruntime.OnnxTensor::close);
        }
    }

    private static float[] floats(ai.onnxruntime.OnnxValue value) throws OrtException {
        var buffer = ((ai.onnxruntime.OnnxTensor) value).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    @Test
    void theGraphIsAStandardOpset17BertGraph() throws IOException {
        Path onnx = tmp.resolve("tiny-bert.onnx");
        OnnxExporter.export(fixture("tiny-bert"), onnx);
        try (Arena arena = Arena.ofConfined();
             ModelDirectory dir = ModelDirectory.open(fixture("tiny-bert"))) {
            OnnxModel model = OnnxReader.read(onnx, arena);
            assertEquals(Map.of("", 17L), model.opsetImports());
            assertEquals(8, model.irVersion());
            assertEquals("bertj", model.producerName());

            for (OnnxValueInfo in : model.graph().inputs()) {
                assertEquals(OnnxDataType.INT64, in.elementType(), in.name());
                assertEquals(List.of("batch", "sequence"), in.shape(), in.name());
            }
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"),
                    model.graph().inputs().stream().map(OnnxValueInfo::name).toList());
            assertEquals(List.of("batch", "sequence", "32"), model.graph().outputs().get(0).shape());
            assertEquals(List.of("batch", "32"), model.graph().outputs().get(1).shape());

            Map<String, Long> ops = model.graph().nodes().stream().collect(Collectors.groupingBy(OnnxNode::opType, Collectors.counting()));
            int layers = 2;
            assertEquals(2 * layers + 1, ops.get("LayerNormalization"));
            assertEquals(layers, ops.get("Softmax"));
            assertEquals(layers, ops.get("Erf"), "exact GELU");
            assertEquals(6 * layers + 1 + 2 * layers, ops.get("MatMul"), "6 Linears per layer, the pooler, Q.K^T and probs.V");
            assertEquals(1, ops.get("Tanh"), "the pooler");
            assertFalse(ops.containsKey("Constant"), "constants are initializers");

            // Linear weights are stored transposed ([in, out]); everything else under its Hugging Face name.
            BertCheckpoint checkpoint = dir.bertCheckpoint();
            OnnxTensor queryT = model.graph().initializers().get("onnx::MatMul_encoder.layer.1.attention.self.query.weight");
            assertArrayEquals(new long[] {32, 32}, queryT.dims());
            float[] query = checkpoint.require("encoder.layer.1.attention.self.query.weight").toFloatArray();
            float[] transposed = queryT.toFloatArray();
            for (int out = 0; out < 32; out++) {
                for (int in = 0; in < 32; in++) assertEquals(query[out * 32 + in], transposed[in * 32 + out]);
            }
            OnnxTensor intermediateT = model.graph().initializers().get("onnx::MatMul_encoder.layer.0.intermediate.dense.weight");
            assertArrayEquals(new long[] {32, 64}, intermediateT.dims());
            assertArrayEquals(checkpoint.require("embeddings.word_embeddings.weight").toFloatArray(),
                    model.graph().initializers().get("embeddings.word_embeddings.weight").toFloatArray());
            for (OnnxTensor t : model.graph().initializers().values()) {
                assertTrue(t.dataType() == OnnxDataType.FLOAT || t.dataType() == OnnxDataType.INT64, t.toString());
            }
        }
    }

    @Test
    void bf16WeightsAreWidenedToF32() throws IOException {
        Path onnx = tmp.resolve("bf16.onnx");
        OnnxExporter.export(fixture("tiny-bert-bf16-sharded-legacy"), onnx);
        try (Arena arena = Arena.ofConfined();
             ModelDirectory dir = ModelDirectory.open(fixture("tiny-bert-bf16-sharded-legacy"))) {
            OnnxModel model = OnnxReader.read(onnx, arena);
            Tensor gamma = dir.bertCheckpoint().require("encoder.layer.0.output.LayerNorm.weight");
            assertEquals("BF16", gamma.dtype().name());
            assertArrayEquals(gamma.toFloatArray(),
                    model.graph().initializers().get("encoder.layer.0.output.LayerNorm.weight").toFloatArray());
        }
    }

    @Test
    void aMissingModelDirectoryIsNamed() {
        Path missing = tmp.resolve("no-such-model");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxExporter.export(missing, tmp.resolve("x.onnx")));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
    }

    @Test
    void aMissingTensorIsNamedAndNoFileIsLeft() throws IOException {
        Path model = tmp.resolve("broken");
        Files.createDirectories(model);
        Files.copy(fixture("tiny-bert").resolve("config.json"), model.resolve("config.json"));
        try (SafetensorsFile full = SafetensorsFile.open(fixture("tiny-bert").resolve("model.safetensors"))) {
            List<Tensor> kept = full.names().stream().filter(n -> !n.equals("encoder.layer.1.output.dense.bias"))
                    .map(full::tensor).toList();
            bertj.loader.SafetensorsWriter.write(model.resolve("model.safetensors"), kept);
        }
        Path out = tmp.resolve("out").resolve("broken.onnx");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxExporter.export(model, out));
        assertTrue(e.getMessage().contains("encoder.layer.1.output.dense.bias"), e.getMessage());
        assertFalse(Files.exists(out.getParent()), "nothing is created when the model is incomplete");
    }

    @Test
    void anUnwritableOutputIsReportedWithItsPath() throws IOException {
        Path directoryInTheWay = tmp.resolve("taken.onnx");
        Files.createDirectories(directoryInTheWay.resolve("child"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> OnnxExporter.export(fixture("tiny-bert"), directoryInTheWay));
        assertTrue(e.getMessage().contains(directoryInTheWay.toString()), e.getMessage());
        try (var leftovers = Files.list(tmp)) {
            assertEquals(List.of(directoryInTheWay), leftovers.toList(), "no temporary file is left behind");
        }
    }

    private static OrtSession session(Path onnx, OptLevel level) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(level);
            options.setIntraOpNumThreads(1);
            return env.createSession(onnx.toString(), options);
        }
    }

    /** Runs the session on reference batch {@code b}; outputs by name, flattened. */
    private static Map<String, float[]> run(OrtSession session, SafetensorsFile reference, String b) throws OrtException {
        Map<String, ai.onnxruntime.OnnxTensor> inputs = new HashMap<>();
        try {
            for (String name : List.of("input_ids", "attention_mask", "token_type_ids")) {
                Tensor t = reference.tensor(b + name);
                inputs.put(name, ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), t.shape()));
            }
            Map<String, float[]> out = new HashMap<>();
            try (OrtSession.Result result = session.run(inputs)) {
                for (var entry : result) {
                    var buffer = ((ai.onnxruntime.OnnxTensor) entry.getValue()).getFloatBuffer();
                    float[] values = new float[buffer.remaining()];
                    buffer.get(values);
                    out.put(entry.getKey(), values);
                }
            }
            return out;
        } finally {
            inputs.values().forEach(ai.onnxruntime.OnnxTensor::close);
        }
    }

    private static BertInput input(SafetensorsFile reference, String b) {
        Tensor ids = reference.tensor(b + "input_ids");
        int batch = (int) ids.dim(0), seq = (int) ids.dim(1);
        return new BertInput(batch, seq, ints(ids), ints(reference.tensor(b + "token_type_ids")),
                ints(reference.tensor(b + "attention_mask")));
    }

    private static int[] ints(Tensor t) {
        long[] values = t.toLongArray();
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Math.toIntExact(values[i]);
        return out;
    }

    /** [a][b][c] -> row-major a*b*c, the layout ONNX Runtime returns. */
    static float[] flatten(float[][][] x) {
        int rows = x.length * x[0].length, width = x[0][0].length;
        float[] out = new float[rows * width];
        int i = 0;
        for (float[][] seq : x) for (float[] row : seq) { System.arraycopy(row, 0, out, i, width); i += width; }
        assertEquals(out.length, i);
        return out;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; } // NaN counts as worst
        }
        if (!(worst <= tolerance)) {
            throw new AssertionError(what + ": max abs difference " + worst + " at flat index " + at + " (expected "
                    + expected[at] + ", got " + actual[at] + "), tolerance " + tolerance);
        }
    }
}
