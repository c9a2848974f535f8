package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir Path tmp;

    private static final Path SHARDED = TestData.model("tiny-bert-bf16-sharded-legacy");

    /** A writable copy of the sharded fixture, for corrupting its index. */
    private Path shardedCopy() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("sharded"));
        try (var files = Files.list(SHARDED)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName().toString()));
        }
        return dir;
    }

    private void assertIndexRejected(Path dir, String... fragments) {
        var e = assertThrows(ModelFormatException.class, () -> Checkpoint.open(dir).close());
        assertTrue(e.getMessage().contains(Checkpoint.INDEX_FILE), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "\"" + f + "\" not in: " + e.getMessage());
    }

    @Test
    void shardedCheckpointPresentsBothShardsAsOneSetOfTensors() {
        try (Checkpoint ckpt = Checkpoint.open(SHARDED)) {
            assertEquals(2, ckpt.files().size());
            assertEquals(SHARDED.resolve("model-00001-of-00002.safetensors"), ckpt.files().get(0));
            // 5 embedding tensors + 16 per layer x 2 layers + 2 pooler
            assertEquals(39, ckpt.names().size());
            assertEquals(List.of(32L, 64L), List.of(ckpt.tensor("encoder.layer.0.output.dense.weight").shape()[0],
                    ckpt.tensor("encoder.layer.0.output.dense.weight").shape()[1]));
            assertEquals(ckpt.files().get(1), ckpt.fileOf("encoder.layer.0.output.dense.weight").orElseThrow());
            assertEquals(ckpt.files().get(0), ckpt.fileOf("embeddings.LayerNorm.gamma").orElseThrow());
            // the index's own metadata.total_size
            assertEquals(1994048, ckpt.totalBytes());
            assertEquals(1972720 + 25400, ckpt.fileBytes());
            Map<DType, Checkpoint.DTypeStats> summary = ckpt.dtypeSummary();
            assertEquals(Map.of(DType.BF16, new Checkpoint.DTypeStats(DType.BF16, 39, 1994048 / 2, 1994048)), summary);
            var e = assertThrows(ModelFormatException.class, () -> ckpt.tensor("missing.weight"));
            assertTrue(e.getMessage().contains("missing.weight") && e.getMessage().contains(Checkpoint.INDEX_FILE));
        }
    }

    @Test
    void singleFileByDirectoryOrPath() {
        Path seqcls = TestData.model("tiny-bert-seqcls");
        try (Checkpoint byDir = Checkpoint.open(seqcls); Checkpoint byFile = Checkpoint.open(seqcls.resolve("model.safetensors"))) {
            assertEquals(byDir.names(), byFile.names());
            assertEquals(List.of(seqcls.resolve("model.safetensors")), byDir.files());
            assertEquals(3988492, byDir.totalBytes());
            assertTrue(byDir.find("classifier.weight").isPresent());
            assertTrue(byDir.find("bert.pooler.dense.weight").isPresent());
        }
    }

    @Test
    void indexFileCanBeOpenedDirectly() {
        try (Checkpoint ckpt = Checkpoint.open(SHARDED.resolve(Checkpoint.INDEX_FILE))) {
            assertEquals(39, ckpt.names().size());
        }
    }

    @Test
    void closingUnmapsEveryShard() {
        Checkpoint ckpt = Checkpoint.open(SHARDED);
        Tensor a = ckpt.tensor("embeddings.word_embeddings.weight"), b = ckpt.tensor("pooler.dense.weight");
        ckpt.close();
        assertThrows(IllegalStateException.class, a::toFloatArray);
        assertThrows(IllegalStateException.class, b::toFloatArray);
        assertThrows(IllegalStateException.class, () -> ckpt.tensor("pooler.dense.weight"));
    }

    @Test
    void directoryWithoutWeights() throws IOException {
        var e = assertThrows(ModelFormatException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        Files.createFile(tmp.resolve("pytorch_model.bin"));
        e = assertThrows(ModelFormatException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("pytorch_model.bin"), e.getMessage());
    }

    @Test
    void shardThatDoesNotExist() throws IOException {
        Path dir = shardedCopy();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertIndexRejected(dir, "model-00002-of-00002.safetensors", "does not exist");
    }

    @Test
    void tensorThatIsNotInTheShardTheIndexNames() throws IOException {
        Path dir = shardedCopy();
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace(
                "\"pooler.dense.bias\": \"model-00002-of-00002.safetensors\"",
                "\"pooler.dense.bias\": \"model-00001-of-00002.safetensors\""));
        assertIndexRejected(dir, "\"pooler.dense.bias\"", "model-00001-of-00002.safetensors", "no such tensor");
    }

    @Test
    void shardPathsMustStayInsideTheModelDirectory() throws IOException {
        Path dir = shardedCopy();
        Files.copy(dir.resolve("model-00002-of-00002.safetensors"), tmp.resolve("outside.safetensors"));
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace(
                "\"pooler.dense.bias\": \"model-00002-of-00002.safetensors\"",
                "\"pooler.dense.bias\": \"../outside.safetensors\""));
        assertIndexRejected(dir, "\"pooler.dense.bias\"", "outside");
    }

    @Test
    void malformedIndex() throws IOException {
        Path dir = shardedCopy();
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": [\"model-00001-of-00002.safetensors\"]}");
        assertIndexRejected(dir, "\"weight_map\" must be an object");
        Files.writeString(index, "{\"weight_map\": {\"pooler.dense.bias\": 2}}");
        assertIndexRejected(dir, "\"pooler.dense.bias\"", "must be a file name");
        Files.writeString(index, "{\"weight_map\": {}}");
        assertIndexRejected(dir, "empty");
        Files.writeString(index, "{\"weight_map\": {");
        assertIndexRejected(dir, "malformed JSON");
    }
}
