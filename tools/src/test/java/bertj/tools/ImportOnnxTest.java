package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.Pooling;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code import-onnx} on real exports other than the default model: BAAI's bge-small-en-v1.5 and intfloat's
 * e5-small-v2, as Xenova exported them with optimum (the Maven Central jars the tools pom copies to
 * bertj.onnxExports). bertj on the converted directory against ONNX Runtime on the ONNX file, one sequence at a
 * time so that every position is a real token: last_hidden_state within {@link #TOLERANCE}, and the embeddings of
 * the sentence-transformers pipeline {@code --pooling} describes with cosine 1 to ONNX Runtime's pooled the same
 * way. The quantized bge export is refused, naming its first quantized node.
 */
class ImportOnnxTest {
    static final double TOLERANCE = 2e-5;

    @TempDir
    Path temp;

    /** An entry of one of the export jars, extracted into the temporary directory. */
    private Path extract(String jar, String entry) throws IOException {
        String dir = System.getProperty("bertj.onnxExports");
        assertNotNull(dir, "the tools pom sets bertj.onnxExports for tests");
        Path target = temp.resolve(entry);
        try (ZipFile zip = new ZipFile(Path.of(dir, jar).toFile()); InputStream in = zip.getInputStream(zip.getEntry(entry))) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    @Test
    void bgeSmallMatchesOnnxRuntime() throws Exception {
        parity("bge-small-en-v1.5.jar", "bge-small-en-v1.5", "cls", Pooling.CLS);
    }

    @Test
    void e5SmallMatchesOnnxRuntime() throws Exception {
        parity("e5-small-v2.jar", "e5-small-v2", "mean", Pooling.MEAN);
    }

    @Test
    void aQuantizedExportIsRefusedNamingItsFirstQuantizedNode() throws IOException {
        Path onnx = extract("bge-small-en-v1.5-q.jar", "bge-small-en-v1.5-q.onnx");
        Path out = temp.resolve("quantized");
        MainTest.Run r = MainTest.run("", "import-onnx", onnx.toString(), out.toString());
        assertEquals(1, r.exitCode());
        assertEquals("bertj: " + onnx + ": node '/embeddings/word_embeddings/Gather_output_0_DequantizeLinear' (DequantizeLinear) is"
                + " part of a quantized graph; the converter maps float weights only: convert the unquantized export\n", r.err());
        assertFalse(Files.exists(out));
        try (var left = Files.list(temp)) {
            assertEquals(List.of(onnx), left.toList(), "a failed import leaves nothing behind");
        }
    }

    private void parity(String jar, String name, String pooling, Pooling mode) throws IOException, OrtException {
        Path onnx = extract(jar, name + ".onnx");
        Path tokenizer = extract(jar, name + "-tokenizer.json");
        Path out = temp.resolve(name);
        MainTest.Run r = MainTest.run("", "import-onnx", onnx.toString(), out.toString(), "--tokenizer", tokenizer.toString(),
                "--pooling", pooling, "--normalize");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("converted " + onnx + " into " + out + ": BertModel, 12 layers, hidden size 384, 12 heads\n", r.out());

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             Bert bert = Bert.load(out)) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(onnx.toString(), options)) {
                List<Encoding> sequences = new ArrayList<>();
                for (String text : OnnxRuntimeParityTest.TEXTS) sequences.add(bert.tokenizer().encode(text, null, EncodeOptions.DEFAULT));
                for (List<String> pair : OnnxRuntimeParityTest.PAIRS) {
                    sequences.add(bert.tokenizer().encode(pair.get(0), pair.get(1), EncodeOptions.DEFAULT));
                }
                List<String> texts = OnnxRuntimeParityTest.TEXTS;
                float[][] embeddings = new float[texts.size()][];
                // the long last text on its own: batched with the others, it would pad them all to its length
                System.arraycopy(bert.embed(texts.subList(0, texts.size() - 1)), 0, embeddings, 0, texts.size() - 1);
                embeddings[texts.size() - 1] = bert.embed(texts.getLast());
                double maxDiff = 0, minCosine = 1;
                for (int s = 0; s < sequences.size(); s++) {
                    Encoding e = sequences.get(s);
                    float[][] ort = lastHiddenState(env, session, e);
                    float[][] ours = bert.model().forward(BertInput.padded(List.of(e.ids()), List.of(e.typeIds()),
                            bert.tokenizer().padTokenId())).lastHiddenState()[0];
                    for (int t = 0; t < ort.length; t++) maxDiff = Math.max(maxDiff, OnnxRuntimeParityTest.maxAbsDiff(ort[t], ours[t]));
                    if (s < texts.size()) {
                        int[] mask = new int[ort.length];
                        Arrays.fill(mask, 1);
                        minCosine = Math.min(minCosine, Pooling.cosine(Pooling.normalize(mode.pool(ort, mask)), embeddings[s]));
                    }
                }
                System.out.printf("[parity] import-onnx %s vs ONNX Runtime, %d sequences one at a time: last_hidden_state max abs"
                        + " diff %.3g; %s-pooled normalized embeddings min cosine %.9f%n", name, sequences.size(), maxDiff, pooling, minCosine);
                assertTrue(maxDiff <= TOLERANCE, name + ": max abs diff " + maxDiff);
                assertTrue(minCosine >= OnnxRuntimeParityTest.MIN_COSINE, name + ": min cosine " + minCosine);
            }
        }
    }

    /** ONNX Runtime's [seq, hidden] for one sequence, given the inputs the graph has. */
    private static float[][] lastHiddenState(OrtEnvironment env, OrtSession session, Encoding e) throws OrtException {
        long[] shape = {1, e.length()};
        Map<String, long[]> values = Map.of("input_ids", longs(e.ids()), "attention_mask", longs(e.attentionMask()),
                "token_type_ids", longs(e.typeIds()));
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (String input : session.getInputNames()) {
                inputs.put(input, OnnxTensor.createTensor(env, LongBuffer.wrap(values.get(input)), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                for (Map.Entry<String, OnnxValue> output : result) {
                    long[] dims = ((TensorInfo) output.getValue().getInfo()).getShape();
                    if (dims.length != 3) continue;
                    FloatBuffer buffer = ((OnnxTensor) output.getValue()).getFloatBuffer();
                    float[][] out = new float[(int) dims[1]][(int) dims[2]];
                    for (float[] row : out) buffer.get(row);
                    return out;
                }
                throw new AssertionError("no [batch, seq, hidden] output among " + session.getOutputNames());
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }
}
