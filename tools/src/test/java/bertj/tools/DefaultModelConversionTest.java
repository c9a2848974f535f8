package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.BertConfig;
import bertj.loader.DefaultModel;
import bertj.loader.HiddenAct;
import bertj.loader.ModelDirectory;
import bertj.loader.PoolingConfig;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxDataType;
import bertj.loader.onnx.OnnxGraph;
import bertj.loader.onnx.OnnxNode;
import bertj.loader.onnx.OnnxReader;
import bertj.loader.onnx.OnnxTensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model as converted from the real all-minilm-l6-v2.onnx, checked against the ONNX file's own
 * initializers. The jar comes from bertj.defaultModelSource (set by the tools pom), the conversion goes to
 * bertj.cacheDir (target/test-cache), so it is made once per build.
 */
class DefaultModelConversionTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    static Path temp;
    static Arena arena;
    static OnnxGraph graph;
    static byte[] tokenizerJson;
    static Path converted;

    @BeforeAll
    static void convertAndReadSource() throws IOException {
        String source = System.getProperty("bertj.defaultModelSource");
        assertNotNull(source, "the tools pom sets bertj.defaultModelSource for tests");
        Path jar = Path.of(source);
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run `mvn -pl tools generate-resources`");
        try (ZipFile zip = new ZipFile(jar.toFile()); InputStream onnx = zip.getInputStream(zip.getEntry("all-minilm-l6-v2.onnx"));
             InputStream tok = zip.getInputStream(zip.getEntry("all-minilm-l6-v2-tokenizer.json"))) {
            Files.copy(onnx, temp.resolve("model.onnx"));
            tokenizerJson = tok.readAllBytes();
        }
        arena = Arena.ofShared();
        graph = OnnxReader.read(temp.resolve("model.onnx"), arena).graph();
        converted = ModelArgument.resolve("default");
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    @Test
    void configIsAllMiniLmL6V2() throws IOException {
        try (ModelDirectory dir = ModelDirectory.open(converted)) {
            BertConfig c = dir.config();
            assertEquals(30522, c.vocabSize());
            assertEquals(384, c.hiddenSize());
            assertEquals(6, c.numHiddenLayers());
            assertEquals(12, c.numAttentionHeads());
            assertEquals(1536, c.intermediateSize());
            assertEquals(HiddenAct.GELU, c.hiddenAct());
            assertEquals(512, c.maxPositionEmbeddings());
            assertEquals(2, c.typeVocabSize());
            assertEquals(1e-12, c.layerNormEps());
            assertEquals(0, c.padTokenId());
            assertEquals(List.of("BertModel"), c.architectures());
            assertTrue(dir.bertCheckpoint().hasPooler(), "the export computes pooler_output, so the pooler is kept");
        }
        JsonNode raw = new ObjectMapper().readTree(converted.resolve("config.json").toFile());
        assertEquals(0.1, raw.get("hidden_dropout_prob").asDouble());
        assertEquals(0.1, raw.get("attention_probs_dropout_prob").asDouble());
    }

    /**
     * Each tensor is found in the ONNX file independently of the converter's bias-based naming: under its own
     * name, or as the B operand of the MatMul node whose name is its module path, transposed.
     */
    @Test
    void everyConvertedTensorEqualsItsOnnxSource() {
        Map<String, OnnxTensor> byNodePath = new HashMap<>();
        for (OnnxNode node : graph.nodes()) {
            OnnxTensor b = node.inputs().size() == 2 ? graph.initializers().get(node.inputs().get(1)) : null;
            if (node.opType().equals("MatMul") && b != null) {
                // "/encoder/layer.0/attention/self/query/MatMul" -> "encoder.layer.0.attention.self.query.weight"
                String path = node.name().substring(1, node.name().length() - "/MatMul".length()).replace('/', '.');
                byNodePath.put(path + ".weight", b);
            }
        }
        assertEquals(36, byNodePath.size(), "6 layers x (query, key, value, attention output, intermediate, output)");
        Set<String> used = new HashSet<>();
        int transposed = 0;
        try (SafetensorsFile file = SafetensorsFile.open(converted.resolve("model.safetensors"))) {
            for (Tensor t : file.tensors()) {
                OnnxTensor named = graph.initializers().get(t.name());
                if (named != null) {
                    assertArrayEquals(named.dims(), t.shape(), t.name());
                    assertEquals(-1, MemorySegment.mismatch(named.data(), 0, named.data().byteSize(), t.data(), 0, t.byteSize()),
                            t.name() + " differs from the ONNX initializer of the same name");
                    used.add(named.name());
                    continue;
                }
                OnnxTensor source = byNodePath.get(t.name());
                assertNotNull(source, t.name() + " has no source in the ONNX file");
                long in = source.dims()[0], out = source.dims()[1];
                assertArrayEquals(new long[] {out, in}, t.shape(), t.name());
                for (long r = 0; r < in; r++) {
                    for (long c = 0; c < out; c++) {
                        float expected = source.data().getAtIndex(F32, r * out + c);
                        float actual = t.data().getAtIndex(F32, c * in + r);
                        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(actual)) {
                            throw new AssertionError(t.name() + "[" + c + "][" + r + "] = " + actual + ", ONNX "
                                    + source.name() + "[" + r + "][" + c + "] = " + expected);
                        }
                    }
                }
                used.add(source.name());
                transposed++;
            }
            assertEquals(36, transposed);
            assertEquals(103, file.tensors().size());
            assertEquals(22_713_216L, file.tensors().stream().mapToLong(Tensor::elementCount).sum(),
                    "all-MiniLM-L6-v2 has 22,713,216 parameters, pooler included");
        }
        for (OnnxTensor t : graph.initializers().values()) {
            if (t.dataType() == OnnxDataType.FLOAT) assertTrue(used.contains(t.name()), "initializer " + t.name() + " was dropped");
        }
    }

    @Test
    void tokenizerFilesComeFromTheShippedTokenizer() throws IOException {
        assertArrayEquals(tokenizerJson, Files.readAllBytes(converted.resolve("tokenizer.json")), "tokenizer.json is copied as is");
        JsonNode vocab = new ObjectMapper().readTree(tokenizerJson).get("model").get("vocab");
        List<String> lines = Files.readAllLines(converted.resolve("vocab.txt"), StandardCharsets.UTF_8);
        assertEquals(30522, lines.size());
        for (int id = 0; id < lines.size(); id++) assertEquals(id, vocab.get(lines.get(id)).asInt(), "vocab.txt line " + id);
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
                List.of(lines.get(0), lines.get(100), lines.get(101), lines.get(102), lines.get(103)));
        JsonNode config = new ObjectMapper().readTree(converted.resolve("tokenizer_config.json").toFile());
        assertTrue(config.get("do_lower_case").asBoolean());
        assertEquals(512, config.get("model_max_length").asInt());
        assertEquals("[CLS]", config.get("cls_token").asText());
        assertEquals("[SEP]", config.get("sep_token").asText());
        assertEquals("[PAD]", config.get("pad_token").asText());
        assertEquals("[UNK]", config.get("unk_token").asText());
        assertEquals("[MASK]", config.get("mask_token").asText());
    }

    @Test
    void embeddingIsMeanPoolingThenNormalize() {
        try (ModelDirectory dir = ModelDirectory.open(converted)) {
            assertEquals(new PoolingConfig(PoolingConfig.Mode.MEAN, true), dir.pooling().orElseThrow());
            assertEquals(256, dir.maxSeqLength().orElseThrow());
        }
    }

    @Test
    void laterUsesReuseTheConversion() throws IOException {
        FileTime written = Files.getLastModifiedTime(converted.resolve("model.safetensors"));
        assertEquals(converted, ModelArgument.resolve("default"));
        assertEquals(written, Files.getLastModifiedTime(converted.resolve("model.safetensors")));
        assertEquals(DefaultModel.directory(), converted);
    }
}
