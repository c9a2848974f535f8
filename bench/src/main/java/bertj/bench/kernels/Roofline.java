package bertj.bench.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.function.DoubleSupplier;

/**
 * The two ceilings of this machine's roofline, as the kernels see them ({@code ./bertj bench roofline}):
 * <ul>
 *   <li>FMA peak: GFLOP/s of independent vector FMA chains with nothing else in the loop, per thread and for
 *       T threads at once. A kernel that does arithmetic can at best reach it.</li>
 *   <li>Read bandwidth: GB/s of one thread (or T at once) summing a buffer far larger than the caches. A kernel
 *       that streams its operands from memory (the weights at 8 tokens) can at best reach it.</li>
 * </ul>
 * A kernel's arithmetic intensity (FLOPs per byte it reads) puts it under one ceiling or the other.
 */
public final class Roofline {
    /** Independent accumulators: FMA latency (4 cycles) times FMA ports (2), plus slack, so the chains never wait. */
    private static final int CHAINS = 12;
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Bytes each thread reads, well past any L3 of this machine. */
    private static final long READ_BYTES = 256L << 20;

    private Roofline() {}

    /** Prints one JSON line per measure and thread count. */
    public static void run(int[] threadCounts, double seconds, PrintWriter out) throws Exception {
        for (int threads : threadCounts) {
            double[] fma = atOnce(threads, () -> fmaGflops(seconds));
            out.println(line("fma", threads, "gflops", fma));
        }
        for (int threads : threadCounts) {
            double[] read = atOnce(threads, () -> readGigabytesPerSecond(seconds));
            out.println(line("read", threads, "gb_per_s", read));
        }
        out.flush();
    }

    private static String line(String measure, int threads, String unit, double[] perThread) {
        double total = 0, min = Double.MAX_VALUE, max = 0;
        for (double v : perThread) {
            total += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return String.format(Locale.ROOT, "{\"measure\":\"%s\",\"threads\":%d,\"vector_bits\":%d,\"%s_per_thread_min\":%.1f,"
                + "\"%s_per_thread_max\":%.1f,\"%s_total\":%.1f}", measure, threads, SPECIES.vectorBitSize(), unit, min, unit, max,
                unit, total);
    }

    /** Runs {@code measure} on {@code threads} threads started together; each thread's result. */
    private static double[] atOnce(int threads, DoubleSupplier measure) throws Exception {
        double[] results = new double[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        Thread[] workers = new Thread[threads];
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                    results[id] = measure.getAsDouble();
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            }, "roofline-" + t);
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        if (failure[0] != null) throw new IllegalStateException("roofline thread failed: " + failure[0], failure[0]);
        return results;
    }

    /** GFLOP/s of {@link #CHAINS} FMA chains, after a warm-up of a quarter of {@code seconds} for C2. */
    static double fmaGflops(double seconds) {
        float sink = 0;
        // many short calls, so that C2 compiles the whole method, not only an on-stack replacement of its loop
        for (long end = System.nanoTime() + (long) (seconds * 0.25e9); System.nanoTime() < end; ) sink += fmaBlock();
        long blocks = 0, start = System.nanoTime(), end = start + (long) (seconds * 1e9);
        do { // at least one block, so that a thread the host did not schedule in time still measures something
            sink += fmaBlock();
            blocks++;
        } while (System.nanoTime() < end);
        double gflops = 2.0 * SPECIES.length() * CHAINS * FMA_BLOCK * blocks / (System.nanoTime() - start);
        return sink == Float.NEGATIVE_INFINITY ? -1 : gflops;
    }

    private static final int FMA_BLOCK = 4096;

    /** {@link #FMA_BLOCK} rounds of {@link #CHAINS} FMAs; the sum is returned so the JIT cannot drop them. */
    private static float fmaBlock() {
        FloatVector a = FloatVector.broadcast(SPECIES, 0.9999999f), b = FloatVector.broadcast(SPECIES, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(SPECIES, 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < FMA_BLOCK; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** GB/s of summing a {@link #READ_BYTES} off-heap buffer, pass after pass, after the JIT has compiled the sum. */
    static double readGigabytesPerSecond(double seconds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(READ_BYTES, 64); // zeroed, so every page is mapped before timing
            MemorySegment small = data.asSlice(0, 64 << 10);
            float sink = 0;
            for (int i = 0; i < 20_000; i++) sink += sum(small); // C2 compiles sum before the first large pass
            sink += sum(data);
            long bytes = 0, start = System.nanoTime(), end = start + (long) (seconds * 1e9);
            do { // at least one pass
                sink += sum(data);
                bytes += READ_BYTES;
            } while (System.nanoTime() < end);
            double gbPerS = (double) bytes / (System.nanoTime() - start);
            return sink == Float.NEGATIVE_INFINITY ? -1 : gbPerS;
        }
    }

    /** Four vector accumulators, so the adds do not wait on each other and only the loads limit the loop. */
    private static float sum(MemorySegment data) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
        long step = SPECIES.vectorByteSize();
        for (long at = 0; at + 4 * step <= data.byteSize(); at += 4 * step) {
            s0 = s0.add(FloatVector.fromMemorySegment(SPECIES, data, at, ByteOrder.nativeOrder()));
            s1 = s1.add(FloatVector.fromMemorySegment(SPECIES, data, at + step, ByteOrder.nativeOrder()));
            s2 = s2.add(FloatVector.fromMemorySegment(SPECIES, data, at + 2 * step, ByteOrder.nativeOrder()));
            s3 = s3.add(FloatVector.fromMemorySegment(SPECIES, data, at + 3 * step, ByteOrder.nativeOrder()));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }
}
