package bertj.loader;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

/**
 * Runs in a separate JVM with a heap much smaller than the file: opens the checkpoint, reads one value from
 * every 4 KB page of every tensor and checks it against the pattern {@link MappingHeapTest} wrote. Prints
 * "ok" and the heap in use; exits non-zero on a wrong value (an OutOfMemoryError would also end it).
 */
public final class MappingProbe {
    private MappingProbe() {}

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        long pagesRead = 0;
        try (Checkpoint ckpt = Checkpoint.open(file)) {
            for (int t = 0; t < ckpt.names().size(); t++) {
                Tensor tensor = ckpt.tensor(ckpt.names().get(t));
                long n = tensor.elementCount();
                for (long i = 0; i < n; i += 1024) {
                    check(tensor, t, i);
                    pagesRead++;
                }
                check(tensor, t, n - 1);
            }
            System.gc();
            long heapUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            System.out.println("ok pages=" + pagesRead + " heapUsedBytes=" + heapUsed);
        }
    }

    private static void check(Tensor tensor, int tensorIndex, long i) {
        float value = tensor.data().get(Tensor.F32_LE, 4 * i);
        float expected = MappingHeapTest.pattern(tensorIndex, i);
        if (value != expected) {
            System.out.println("wrong value in " + tensor.name() + "[" + i + "]: " + value + ", expected " + expected);
            System.exit(3);
        }
    }
}
