package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
    @TempDir Path tmp;

    private static final String TRANSFORMER =
            "{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}";
    private static final String POOLING =
            "{\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}";
    private static final String NORMALIZE =
            "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}";

    /** A sentence-transformers layout around a small config (no weights needed to read pooling). */
    private Path sentenceTransformer(String modules, String poolingConfig) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("st"));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 32, \"num_attention_heads\": 4}");
        Files.writeString(dir.resolve("modules.json"), modules);
        Files.createDirectory(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), poolingConfig);
        return dir;
    }

    private static String pooling(boolean cls, boolean mean, boolean max) {
        return "{\"word_embedding_dimension\": 32, \"pooling_mode_cls_token\": " + cls
                + ", \"pooling_mode_mean_tokens\": " + mean + ", \"pooling_mode_max_tokens\": " + max
                + ", \"pooling_mode_mean_sqrt_len_tokens\": false, \"pooling_mode_weightedmean_tokens\": false"
                + ", \"pooling_mode_lasttoken\": false, \"include_prompt\": true}";
    }

    private String poolingError(String modules, String poolingConfig) throws IOException {
        try (ModelDirectory md = ModelDirectory.open(sentenceTransformer(modules, poolingConfig))) {
            return assertThrows(ModelFormatException.class, md::pooling).getMessage();
        }
    }

    @Test
    void huggingFaceDirectory() {
        Path dir = TestData.model("tiny-bert-seqcls");
        ModelDirectory md = ModelDirectory.open(dir);
        assertEquals(3, md.config().numLabels());
        assertEquals(Optional.of(dir.resolve("tokenizer_config.json")), md.tokenizerConfigJson());
        assertEquals(Optional.empty(), md.vocabTxt());
        assertEquals(Optional.empty(), md.tokenizerJson());
        assertEquals(Optional.empty(), md.pooling());
        assertEquals(OptionalInt.empty(), md.maxSeqLength());
        Checkpoint ckpt = md.checkpoint();
        assertSame(ckpt, md.checkpoint());
        assertArrayEquals(new long[] {3, 32}, md.bertCheckpoint().require("classifier.weight").shape());
        Tensor t = ckpt.tensor("classifier.bias");
        md.close();
        md.close(); // idempotent
        assertThrows(IllegalStateException.class, t::toFloatArray);
        assertThrows(IllegalStateException.class, md::checkpoint);
    }

    @Test
    void notAModelDirectory() throws IOException {
        var e = assertThrows(ModelFormatException.class, () -> ModelDirectory.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> ModelDirectory.open(tmp));
        assertTrue(e.getMessage().contains("no config.json") && e.getMessage().contains(tmp.toString()), e.getMessage());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        e = assertThrows(ModelFormatException.class, () -> ModelDirectory.open(file));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": true}");
        e = assertThrows(ModelFormatException.class, () -> ModelDirectory.open(tmp));
        assertTrue(e.getMessage().contains("hidden_size") && e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void missingWeightsAreReportedWhenFirstNeeded() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        try (ModelDirectory md = ModelDirectory.open(tmp)) {
            var e = assertThrows(ModelFormatException.class, md::checkpoint);
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        }
    }

    @Test
    void sentenceTransformersMeanPoolingWithNormalize() throws IOException {
        Path dir = sentenceTransformer("[" + TRANSFORMER + "," + POOLING + "," + NORMALIZE + "]", pooling(false, true, false));
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 256, \"do_lower_case\": false}");
        try (ModelDirectory md = ModelDirectory.open(dir)) {
            assertEquals(Optional.of(new PoolingConfig(PoolingConfig.Mode.MEAN, true)), md.pooling());
            assertEquals(OptionalInt.of(256), md.maxSeqLength());
            assertEquals(Optional.of(dir.resolve("modules.json")), md.modulesJson());
        }
    }

    @Test
    void clsAndMaxPoolingWithoutNormalize() throws IOException {
        try (ModelDirectory md = ModelDirectory.open(sentenceTransformer("[" + TRANSFORMER + "," + POOLING + "]",
                pooling(true, false, false)))) {
            assertEquals(Optional.of(new PoolingConfig(PoolingConfig.Mode.CLS, false)), md.pooling());
        }
        Path dir = tmp.resolve("st");
        Files.writeString(dir.resolve("1_Pooling/config.json"), pooling(false, false, true));
        try (ModelDirectory md = ModelDirectory.open(dir)) {
            assertEquals(PoolingConfig.Mode.MAX, md.pooling().orElseThrow().mode());
        }
    }

    @Test
    void poolingThatBertjCannotReproduceIsAnError() throws IOException {
        String dense = "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}";
        assertTrue(poolingError("[" + TRANSFORMER + "," + POOLING + "," + dense + "]", pooling(false, true, false))
                .contains("sentence_transformers.models.Dense"));
        deleteSt();
        assertTrue(poolingError("[" + POOLING + "]", pooling(true, true, false)).contains("more than one pooling mode"));
        deleteSt();
        assertTrue(poolingError("[" + POOLING + "]", pooling(false, false, false)).contains("no pooling_mode"));
        deleteSt();
        assertTrue(poolingError("[" + POOLING + "]", pooling(false, true, false).replace("\"word_embedding_dimension\": 32",
                "\"word_embedding_dimension\": 384")).contains("word_embedding_dimension"));
        deleteSt();
        assertTrue(poolingError("[" + POOLING.replace("1_Pooling", "../1_Pooling") + "]", pooling(false, true, false))
                .contains("outside the model directory"));
        deleteSt();
        assertTrue(poolingError("{}", pooling(false, true, false)).contains("JSON array"));
    }

    private void deleteSt() throws IOException {
        try (var walk = Files.walk(tmp.resolve("st"))) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
