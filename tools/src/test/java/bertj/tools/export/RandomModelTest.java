package bertj.tools.export;

import bertj.fixtures.Fixtures;
import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.DType;
import bertj.loader.HiddenAct;
import bertj.loader.ModelDirectory;
import bertj.loader.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomModelTest {
    /** A small model with the real vocabulary, so a write takes milliseconds; the code path is bert-base's. */
    private static final BertConfig SMALL = RandomModel.Shape.MINILM.config().toBuilder()
            .hiddenSize(64).numHiddenLayers(2).numAttentionHeads(4).intermediateSize(128).build();

    @TempDir
    Path tmp;

    @Test
    void theNamedShapesAreBertBaseUncasedAndMiniLm() {
        BertConfig base = RandomModel.Shape.of("bert-base").config();
        assertEquals(List.of(30522, 768, 12, 12, 3072, 512, 2),
                List.of(base.vocabSize(), base.hiddenSize(), base.numHiddenLayers(), base.numAttentionHeads(),
                        base.intermediateSize(), base.maxPositionEmbeddings(), base.typeVocabSize()));
        assertEquals(HiddenAct.GELU, base.hiddenAct());
        assertEquals(1e-12, base.layerNormEps());
        // sum(p.numel() for p in BertModel.from_pretrained("bert-base-uncased").parameters())
        assertEquals(109_482_240L, base.parameterCount(true));

        BertConfig minilm = RandomModel.Shape.of("minilm").config();
        assertEquals(List.of(384, 6, 12, 1536), List.of(minilm.hiddenSize(), minilm.numHiddenLayers(),
                minilm.numAttentionHeads(), minilm.intermediateSize()));
        // all-MiniLM-L6-v2's BertModel with its pooler
        assertEquals(22_713_216L, minilm.parameterCount(true));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RandomModel.Shape.of("bert-large"));
        assertTrue(e.getMessage().contains("bert-large") && e.getMessage().contains("bert-base, minilm"), e.getMessage());
    }

    @Test
    void writesADirectoryThatLoadsAsTheConfiguredBertModel() throws IOException {
        Path dir = tmp.resolve("model");
        RandomModel.write(dir, SMALL, 7);

        try (ModelDirectory model = ModelDirectory.open(dir)) {
            BertConfig read = model.config();
            assertEquals(SMALL.hiddenSize(), read.hiddenSize());
            assertEquals(SMALL.numHiddenLayers(), read.numHiddenLayers());
            assertEquals(SMALL.numAttentionHeads(), read.numAttentionHeads());
            assertEquals(SMALL.intermediateSize(), read.intermediateSize());
            assertEquals(SMALL.vocabSize(), read.vocabSize());
            assertEquals(HiddenAct.GELU, read.hiddenAct());
            assertEquals(List.of("BertModel"), read.architectures());

            BertCheckpoint checkpoint = model.bertCheckpoint();
            List<String> expected = BertCheckpoint.bertModelNames(read, true);
            assertEquals(Set.copyOf(expected), Set.copyOf(checkpoint.checkpoint().names()), "exactly BertModel's parameters");
            for (String name : expected) {
                Tensor t = checkpoint.require(name); // checks the shape the config implies
                assertEquals(DType.F32, t.dtype(), name);
            }
            assertEquals(SMALL.parameterCount(true), checkpoint.parameterCount());
        }

        JsonNode tokenizerConfig = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertTrue(tokenizerConfig.get("do_lower_case").asBoolean());
        assertEquals(512, tokenizerConfig.get("model_max_length").asInt());
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals(0.02, config.get("initializer_range").asDouble());
        assertEquals("bert", config.get("model_type").asText());
    }

    @Test
    void theVocabularyIsBertBaseUncasedByteForByte() throws IOException {
        RandomModel.write(tmp, SMALL, 1);
        byte[] written = Files.readAllBytes(tmp.resolve("vocab.txt"));
        assertArrayEquals(Files.readAllBytes(Fixtures.vocab()), written);
        List<String> lines = Files.readAllLines(tmp.resolve("vocab.txt"));
        assertEquals(30522, lines.size());
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
                List.of(lines.get(0), lines.get(100), lines.get(101), lines.get(102), lines.get(103)));
    }

    @Test
    void weightsAreInitializedAsBertPreTrainedModelDoes() {
        RandomModel.write(tmp, SMALL, 3);
        try (ModelDirectory model = ModelDirectory.open(tmp)) {
            BertCheckpoint checkpoint = model.bertCheckpoint();
            for (String name : BertCheckpoint.bertModelNames(SMALL, true)) {
                float[] values = checkpoint.require(name).toFloatArray();
                if (name.endsWith("LayerNorm.weight")) {
                    assertAll(values, 1f, name);
                } else if (name.endsWith(".bias")) {
                    assertAll(values, 0f, name);
                } else if (name.equals("embeddings.word_embeddings.weight")) {
                    int hidden = SMALL.hiddenSize();
                    assertAll(java.util.Arrays.copyOf(values, hidden), 0f, "padding row (pad_token_id 0)");
                    assertNormal(java.util.Arrays.copyOfRange(values, hidden, values.length), name);
                } else {
                    assertNormal(values, name);
                }
            }
        }
    }

    @Test
    void theSeedDeterminesTheWeights() throws IOException {
        RandomModel.write(tmp.resolve("a"), SMALL, 11);
        RandomModel.write(tmp.resolve("b"), SMALL, 11);
        RandomModel.write(tmp.resolve("c"), SMALL, 12);
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(tmp.resolve("b/model.safetensors")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(tmp.resolve("c/model.safetensors"))));
    }

    @Test
    void tensorsLargerThanAGenerationWindowAreNotRepeated() {
        // 30522 x 64 floats = 1.9M: two 1M-float chunks with distinct seeds
        RandomModel.write(tmp, SMALL, 5);
        try (ModelDirectory model = ModelDirectory.open(tmp)) {
            float[] word = model.bertCheckpoint().require("embeddings.word_embeddings.weight").toFloatArray();
            int chunk = 1 << 20;
            assertFalse(java.util.Arrays.equals(word, chunk, chunk + 1000, word, 0, 1000));
            assertFalse(java.util.Arrays.equals(word, chunk, chunk + 1000, word, 64, 1064));
        }
    }

    @Test
    void aVocabularySizeOtherThanTheBundledOneIsRefused() {
        BertConfig other = SMALL.toBuilder().vocabSize(1000).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RandomModel.write(tmp, other, 1));
        assertTrue(e.getMessage().contains("1000") && e.getMessage().contains("30522"), e.getMessage());
    }

    private static void assertAll(float[] values, float expected, String name) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != expected) throw new AssertionError(name + "[" + i + "] = " + values[i] + ", expected " + expected);
        }
    }

    /**
     * Mean and standard deviation of normal(0, 0.02) samples: the sample mean is within 5 standard errors of 0
     * and the sample deviation within 5 of its own standard errors (0.02 / sqrt(2n)) of 0.02.
     */
    private static void assertNormal(float[] values, String name) {
        double sum = 0, squares = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
        }
        int n = values.length;
        double mean = sum / n, std = Math.sqrt(squares / n - mean * mean);
        double sigma = RandomModel.INITIALIZER_RANGE;
        assertTrue(Math.abs(mean) <= 5 * sigma / Math.sqrt(n), name + ": mean " + mean + " over " + n + " values");
        assertTrue(Math.abs(std - sigma) <= 5 * sigma / Math.sqrt(2.0 * n), name + ": std " + std + " over " + n + " values");
    }
}
