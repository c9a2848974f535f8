package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BertCheckpointTest {
    @TempDir Path tmp;

    private static final BertConfig TINY = BertConfig.builder().vocabSize(50).hiddenSize(8).numAttentionHeads(2)
            .numHiddenLayers(2).intermediateSize(16).maxPositionEmbeddings(12).build();

    /** Writes every BertModel tensor (value = its index, to tell them apart) under {@code naming}'s names. */
    private Path writeModel(BertConfig config, UnaryOperator<String> naming, Map<String, long[]> shapeOverrides,
                            List<String> extraHeads) {
        List<Tensor> tensors = new ArrayList<>();
        List<String> names = new ArrayList<>(BertCheckpoint.bertModelNames(config, true));
        names.addAll(extraHeads);
        for (String canonical : names) {
            long[] shape = shapeOverrides.getOrDefault(canonical, BertCheckpoint.expectedShape(config, canonical));
            int n = (int) Arrays.stream(shape).reduce(1, Math::multiplyExact);
            float[] values = new float[n];
            Arrays.fill(values, tensors.size());
            tensors.add(Tensor.ofFloats(naming.apply(canonical), shape, values));
        }
        Path file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, tensors);
        return file;
    }

    private static long sumOfAllElements(Checkpoint ckpt) {
        return ckpt.names().stream().mapToLong(n -> ckpt.tensor(n).elementCount()).sum();
    }

    @Test
    void bertPrefixOfTaskModels() {
        Path dir = TestData.model("tiny-bert-seqcls");
        BertConfig config = BertConfig.load(dir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            BertCheckpoint bert = new BertCheckpoint(ckpt, config);
            assertEquals("bert.embeddings.word_embeddings.weight", bert.resolve("embeddings.word_embeddings.weight").orElseThrow());
            assertEquals("bert.encoder.layer.1.output.LayerNorm.bias",
                    bert.require("encoder.layer.1.output.LayerNorm.bias").name());
            for (String name : BertCheckpoint.bertModelNames(config, true)) {
                assertArrayEquals(bert.expectedShape(name), bert.require(name).shape(), name);
            }
            // the head is looked up without the prefix; 3 labels from id2label
            assertArrayEquals(new long[] {3, 32}, bert.require("classifier.weight").shape());
            assertTrue(bert.optional("qa_outputs.weight").isEmpty());
            assertTrue(bert.hasPooler());
            // every tensor in the file belongs to BertModel + the classifier
            assertEquals(sumOfAllElements(ckpt), bert.parameterCount());
            assertEquals(config.parameterCount(true) + 3 * 32 + 3, bert.parameterCount());
        }
    }

    @Test
    void legacyGammaBetaInAShardedBf16Checkpoint() {
        Path dir = TestData.model("tiny-bert-bf16-sharded-legacy");
        BertConfig config = BertConfig.load(dir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            BertCheckpoint bert = new BertCheckpoint(ckpt, config);
            Tensor gamma = bert.require("encoder.layer.0.attention.output.LayerNorm.weight");
            assertEquals("encoder.layer.0.attention.output.LayerNorm.gamma", gamma.name());
            assertEquals(DType.BF16, gamma.dtype());
            assertEquals("embeddings.LayerNorm.beta", bert.require("embeddings.LayerNorm.bias").name());
            assertEquals(sumOfAllElements(ckpt), bert.parameterCount());
            assertEquals(config.parameterCount(true), bert.parameterCount());
        }
    }

    @Test
    void plainNamesOfABertModelCheckpoint() {
        Path file = writeModel(TINY, n -> n, Map.of(), List.of("qa_outputs.weight", "qa_outputs.bias"));
        try (Checkpoint ckpt = Checkpoint.open(file)) {
            BertCheckpoint bert = new BertCheckpoint(ckpt, TINY);
            List<String> names = BertCheckpoint.bertModelNames(TINY, true);
            assertEquals(5 + 16 * 2 + 2, names.size());
            for (int i = 0; i < names.size(); i++) {
                Tensor t = bert.require(names.get(i));
                assertEquals(names.get(i), t.name());
                assertEquals(i, t.toFloatArray()[0]);
            }
            assertArrayEquals(new long[] {2, 8}, bert.require("qa_outputs.weight").shape());
            assertEquals(TINY.parameterCount(true) + 2 * 8 + 2, bert.parameterCount());
        }
    }

    @Test
    void wrongShapeIsReportedAgainstTheConfig() {
        String name = "encoder.layer.1.intermediate.dense.weight";
        Path file = writeModel(TINY, n -> "bert." + n, Map.of(name, new long[] {8, 16}), List.of());
        try (Checkpoint ckpt = Checkpoint.open(file)) {
            BertCheckpoint bert = new BertCheckpoint(ckpt, TINY, "my/config.json");
            var e = assertThrows(ModelFormatException.class, () -> bert.require(name));
            assertEquals("tensor \"bert." + name + "\" in " + file + " has shape [8, 16], expected [16, 8]"
                    + " (from my/config.json: intermediate_size=16, hidden_size=8)", e.getMessage());
            assertThrows(ModelFormatException.class, bert::parameterCount);
            // an explicit expected shape that is not the config's gets no config explanation
            var e2 = assertThrows(ModelFormatException.class, () -> bert.require("pooler.dense.bias", 9));
            assertTrue(e2.getMessage().endsWith("has shape [8], expected [9]"), e2.getMessage());
        }
    }

    @Test
    void missingTensorListsTheSpellingsTried() {
        Path file = writeModel(TINY, n -> "roberta." + n, Map.of(), List.of());
        try (Checkpoint ckpt = Checkpoint.open(file)) {
            BertCheckpoint bert = new BertCheckpoint(ckpt, TINY);
            var e = assertThrows(ModelFormatException.class, () -> bert.require("embeddings.LayerNorm.weight"));
            String m = e.getMessage();
            assertTrue(m.contains(file.toString()) && m.contains("missing tensor \"embeddings.LayerNorm.weight\""), m);
            assertTrue(m.contains("tried embeddings.LayerNorm.weight, embeddings.LayerNorm.gamma, "
                    + "bert.embeddings.LayerNorm.weight, bert.embeddings.LayerNorm.gamma"), m);
            assertTrue(m.contains("roberta.embeddings.word_embeddings.weight"), m);
            assertTrue(bert.optional("embeddings.LayerNorm.weight").isEmpty());
            assertFalse(bert.hasPooler());
        }
    }

    @Test
    void integerWeightsAreRejected() {
        Path file = tmp.resolve("int.safetensors");
        SafetensorsWriter.write(file, List.of(Tensor.ofLongs("pooler.dense.bias", new long[] {8}, new long[8])));
        try (Checkpoint ckpt = Checkpoint.open(file)) {
            var e = assertThrows(ModelFormatException.class, () -> new BertCheckpoint(ckpt, TINY).require("pooler.dense.bias"));
            assertTrue(e.getMessage().contains("dtype I64"), e.getMessage());
        }
    }

    @Test
    void namesAndShapesFromTheConfig() {
        assertEquals(List.of("classifier.weight"), BertCheckpoint.candidates("classifier.weight"));
        assertEquals(List.of("pooler.dense.weight", "bert.pooler.dense.weight"), BertCheckpoint.candidates("pooler.dense.weight"));
        assertArrayEquals(new long[] {50, 8}, BertCheckpoint.expectedShape(TINY, "embeddings.word_embeddings.weight"));
        assertArrayEquals(new long[] {12, 8}, BertCheckpoint.expectedShape(TINY, "embeddings.position_embeddings.weight"));
        assertArrayEquals(new long[] {8, 16}, BertCheckpoint.expectedShape(TINY, "encoder.layer.1.output.dense.weight"));
        assertArrayEquals(new long[] {2}, BertCheckpoint.expectedShape(TINY, "classifier.bias"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> BertCheckpoint.expectedShape(TINY, "encoder.layer.2.output.dense.weight"));
        assertTrue(e.getMessage().contains("num_hidden_layers=2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BertCheckpoint.expectedShape(TINY, "cls.predictions.bias"));
        assertEquals(5 + 16 * 2, BertCheckpoint.bertModelNames(TINY, false).size());
    }
}
