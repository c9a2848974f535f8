package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a checkpoint maps it without copying it to the heap: a JVM with a 64 MB heap reads every page of a
 * 300 MB checkpoint.
 */
class MappingHeapTest {
    @TempDir Path tmp;

    private static final int TENSORS = 3;
    private static final long FLOATS_PER_TENSOR = 25_000_000;   // 100 MB each
    private static final String CHILD_HEAP = "-Xmx64m";

    /** Distinct per tensor and position, exact in float (values below 2^24). */
    static float pattern(int tensor, long i) {
        return tensor * 100_000 + (i % 99_991);
    }

    @Test
    void aModelFiveTimesLargerThanTheHeapLoadsAndReads() throws IOException, InterruptedException {
        Path file = tmp.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = new ArrayList<>();
            for (int t = 0; t < TENSORS; t++) {
                MemorySegment data = arena.allocate(FLOATS_PER_TENSOR * 4, 64);
                for (long i = 0; i < FLOATS_PER_TENSOR; i++) data.set(Tensor.F32_LE, 4 * i, pattern(t, i));
                tensors.add(Tensor.of("layer." + t + ".weight", DType.F32, new long[] {FLOATS_PER_TENSOR / 1000, 1000}, data));
            }
            SafetensorsWriter.write(file, tensors);
        }
        assertTrue(Files.size(file) > 300_000_000L);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, CHILD_HEAP, "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), MappingProbe.class.getName(), file.toString())
                .redirectErrorStream(true).start();
        // a guard against a hung child, not a performance assertion
        boolean finished = child.waitFor(120, TimeUnit.SECONDS);
        if (!finished) child.destroyForcibly();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(finished, "child JVM did not finish: " + output);
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.startsWith("ok pages=" + (TENSORS * (FLOATS_PER_TENSOR / 1024 + 1))), output);
        long heapUsed = Long.parseLong(output.replaceAll("(?s).*heapUsedBytes=(\\d+).*", "$1"));
        assertTrue(heapUsed < 16L << 20, "heap in use after reading the model: " + heapUsed + " bytes");
    }
}
