package bertj.engine;

import bertj.kernels.Precision;
import bertj.loader.CacheDirectory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed-weights cache: the first load writes it, later loads map it, and whatever happens to the file
 * (truncated, overwritten with junk, the weights changed under it, the cache directory unwritable) a load
 * gives the same outputs, bit for bit, as packing in memory.
 */
class PackedCacheTest {
    @TempDir
    Path temp;
    private String savedCacheDir;
    private Path model;
    private Path cacheRoot;

    @BeforeEach
    void setUp() throws IOException {
        savedCacheDir = System.getProperty("bertj.cacheDir");
        cacheRoot = temp.resolve("cache");
        System.setProperty("bertj.cacheDir", cacheRoot.toString());
        // A copy of a reference model, so that its weights can be touched.
        try (Reference ref = new Reference("tiny-bert")) {
            model = temp.resolve("model");
            Files.createDirectories(model);
            try (Stream<Path> files = Files.list(ref.modelDir)) {
                for (Path f : files.toList()) Files.copy(f, model.resolve(f.getFileName()));
            }
        }
    }

    @AfterEach
    void restore() {
        if (savedCacheDir == null) System.clearProperty("bertj.cacheDir");
        else System.setProperty("bertj.cacheDir", savedCacheDir);
    }

    @Test
    void firstLoadWritesTheCacheAndLaterLoadsGiveTheSameBits() throws IOException {
        float[][][] packedInMemory = withoutCache();
        assertArrayEquals(packedInMemory, lastHiddenState());
        Path file = onlyCacheFile();
        FileTime written = Files.getLastModifiedTime(file);
        assertArrayEquals(packedInMemory, lastHiddenState());
        assertEquals(written, Files.getLastModifiedTime(file), "a valid cache is mapped, not written again");
    }

    @Test
    void aDamagedCacheIsIgnoredAndWrittenAgain() throws IOException {
        float[][][] expected = withoutCache();
        lastHiddenState();
        Path file = onlyCacheFile();
        long size = Files.size(file);
        List<Runnable> damages = List.of(
                () -> truncate(file, size / 2),
                () -> truncate(file, 5),
                () -> overwrite(file, 0, "NOTBERTJ"),
                () -> overwrite(file, 16, "{\"layout\": 1, \"junk"),
                () -> overwrite(file, 8, "\u007f\u007f\u007f\u007f\u007f\u007f\u007f\u007f"));
        for (Runnable damage : damages) {
            damage.run();
            assertArrayEquals(expected, lastHiddenState());
            assertEquals(size, Files.size(onlyCacheFile()), "rewritten whole");
            FileTime rewritten = Files.getLastModifiedTime(onlyCacheFile());
            assertArrayEquals(expected, lastHiddenState());
            assertEquals(rewritten, Files.getLastModifiedTime(onlyCacheFile()), "and valid again");
        }
    }

    @Test
    void changedWeightsAreRepackedNotReadFromTheCache() throws IOException {
        lastHiddenState();
        FileTime before = Files.getLastModifiedTime(onlyCacheFile());
        // Other weights under the same name: the fixture's own file with one weight of a Linear changed, newer.
        Path weights = model.resolve("model.safetensors");
        Path changed = temp.resolve("changed.safetensors");
        Files.copy(weights, changed);
        setFirstWeightToOne(changed);
        Files.move(changed, weights, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(before.toMillis() + 5000));
        float[][][] expected = withoutCache();
        assertArrayEquals(expected, lastHiddenState());
        assertNotEquals(before, Files.getLastModifiedTime(onlyCacheFile()));
    }

    @Test
    void weightsSwappedForOthersOfTheSameSizeAndTimeAreRepacked() throws IOException {
        lastHiddenState();
        // As `cp -p`, `rsync -a` or an archive would leave another fine-tune: same size, same modification time.
        Path weights = model.resolve("model.safetensors");
        FileTime mtime = Files.getLastModifiedTime(weights);
        Path other = temp.resolve("other.safetensors");
        Files.copy(weights, other);
        setFirstWeightToOne(other);
        Files.delete(weights);
        Files.copy(other, weights);
        Files.setLastModifiedTime(weights, mtime);
        assertEquals(mtime, Files.getLastModifiedTime(weights));
        assertArrayEquals(withoutCache(), lastHiddenState());
    }

    @Test
    void eachPrecisionHasAFileOfItsOwn() throws IOException {
        float[][][] fp32 = lastHiddenState(Precision.FP32);
        Path fp32File = onlyCacheFile();
        for (Precision precision : List.of(Precision.BF16, Precision.INT8)) {
            float[][][] inMemory = withoutCache(precision);
            assertArrayEquals(inMemory, lastHiddenState(precision), precision + ": packed now");
            assertArrayEquals(inMemory, lastHiddenState(precision), precision + ": from its file");
            assertTrue(Files.isRegularFile(fp32File.resolveSibling(fp32File.getFileName().toString()
                    .replace(".bin", "-" + precision.label() + ".bin"))), precision.label());
            assertNotEquals(Arrays.deepToString(fp32), Arrays.deepToString(inMemory), precision + " rounds the weights");
        }
        assertArrayEquals(fp32, lastHiddenState(Precision.FP32), "fp32 still reads its own file");
    }

    @Test
    void anUnwritableCacheDirectoryOnlyCostsTime() throws IOException {
        Files.writeString(cacheRoot, "a file where the cache directory should be");
        assertArrayEquals(withoutCache(), lastHiddenState());
    }

    private float[][][] lastHiddenState() {
        return lastHiddenState(null);
    }

    private float[][][] lastHiddenState(Precision precision) {
        try (BertModel m = BertModel.load(model, BertModelParityTest.POOL, KernelMode.VECTOR, precision)) {
            return m.forward(BertInput.of(new int[] {2, 10, 11, 12, 3}, new int[5])).lastHiddenState();
        }
    }

    private float[][][] withoutCache() {
        return withoutCache(null);
    }

    private float[][][] withoutCache(Precision precision) {
        System.setProperty(BertModel.PACKED_CACHE_PROPERTY, "false");
        try {
            return lastHiddenState(precision);
        } finally {
            System.clearProperty(BertModel.PACKED_CACHE_PROPERTY);
        }
    }

    private Path onlyCacheFile() throws IOException {
        try (Stream<Path> files = Files.list(cacheRoot.resolve("packed"))) {
            List<Path> all = files.toList();
            assertEquals(1, all.size(), "one cache file: " + all);
            assertTrue(all.getFirst().toString().endsWith(".bin"));
            return all.getFirst();
        }
    }

    /** Sets the first float of the last layer's output Linear, which the last hidden state depends on, to 1. */
    private static void setFirstWeightToOne(Path safetensors) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(safetensors.toFile(), "rw")) {
            byte[] length = new byte[8];
            f.readFully(length);
            long headerLength = ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] header = new byte[Math.toIntExact(headerLength)];
            f.readFully(header);
            JsonNode tensor = new ObjectMapper().readTree(header).get("encoder.layer.1.output.dense.weight");
            f.seek(8 + headerLength + tensor.get("data_offsets").get(0).asLong());
            f.writeInt(Integer.reverseBytes(Float.floatToIntBits(1f))); // little-endian
        }
    }

    private static void truncate(Path file, long size) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void overwrite(Path file, long at, String text) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            f.write(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
