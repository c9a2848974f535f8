package bertj.bench.kernels;

import bertj.kernels.Activation;
import bertj.kernels.GemmPlan;
import bertj.kernels.Linear;
import bertj.kernels.PackedLinear;
import bertj.kernels.ThreadPool;
import bertj.kernels.VectorSupport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * {@code bertj bench gemm --m M --k K --n N --threads T}: times {@link Linear#forward} on one shape and prints
 * one line ending in {@code GFLOP/s: X}, the median of repeated runs after warm-up, to compare with other
 * GEMMs in the same run (bench/src/main/c/openblas_gemm.c does the same for OpenBLAS). The best run is
 * also given: on a shared machine it is the least disturbed one.
 *
 * <p>As in a real model, where each layer's weights are used once per forward pass, the runs cycle through
 * enough copies of the weights to exceed the caches ({@code --weights-mb}, default 256): at small M the
 * figure is then bound by memory bandwidth, and the line also gives the GB/s of weights streamed.
 *
 * <p>{@code --plan} prints how {@link Linear} splits that shape over the threads ({@link GemmPlan}) instead of
 * timing it.
 *
 * <p>{@code --vs-onnxruntime} then times ONNX Runtime's MatMul (MLAS) on the same shape and threads
 * ({@link OrtMatMulBench}) and prints its line too.
 */
public final class GemmBench {
    /** Least time spent warming up before the samples. */
    static final long WARMUP_NANOS = 2_000_000_000L;

    private GemmBench() {}

    public static void main(String[] args) {
        int m = 0;
        int k = 0;
        int n = 0;
        int threads = 1;
        int weightsMb = 256;
        int samples = 21;
        boolean vsOnnxRuntime = false;
        boolean planOnly = false;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--vs-onnxruntime" -> {
                    vsOnnxRuntime = true;
                    continue;
                }
                case "--plan" -> {
                    planOnly = true;
                    continue;
                }
                case "--m" -> m = parse("--m", value);
                case "--k" -> k = parse("--k", value);
                case "--n" -> n = parse("--n", value);
                case "--threads" -> threads = parse("--threads", value);
                case "--weights-mb" -> weightsMb = parse("--weights-mb", value);
                case "--samples" -> samples = parse("--samples", value);
                case "-h", "--help" -> {
                    System.out.println(usage());
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + usage());
            }
            i++;
        }
        if (m <= 0 || k <= 0 || n <= 0 || threads <= 0) {
            throw new IllegalArgumentException("--m, --k, --n and --threads must be positive\n" + usage());
        }
        if (planOnly) {
            System.out.println(GemmPlan.of(m, k, n, threads).describe());
            return;
        }
        System.out.println(run(m, k, n, threads, weightsMb, samples));
        if (vsOnnxRuntime) {
            try {
                System.out.println(OrtMatMulBench.run(m, k, n, threads, weightsMb, samples));
            } catch (ai.onnxruntime.OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed on the one-MatMul graph: " + e.getMessage(), e);
            }
        }
    }

    private static String usage() {
        return "usage: bertj bench gemm --m M --k K --n N [--threads T] [--weights-mb MB] [--samples S] [--vs-onnxruntime] [--plan]";
    }

    private static int parse(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value\n" + usage());
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be an integer, got '" + value + "'\n" + usage());
        }
    }

    /** Times the shape and returns the report line. */
    static String run(int m, int k, int n, int threads, int weightsMb, int samples) {
        long weightBytes = 4L * n * k;
        int copies = (int) Math.max(1, Math.min(1024, ((long) weightsMb << 20) / weightBytes));
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(threads)) {
            Random random = new Random(1);
            MemorySegment x = fill(arena.allocate(4L * m * k, 64), random);
            MemorySegment y = arena.allocate(4L * m * n, 64);
            MemorySegment w = fill(arena.allocate(weightBytes, 64), random);
            MemorySegment b = fill(arena.allocate(4L * n, 64), random);
            PackedLinear[] layers = new PackedLinear[copies];
            long packStart = System.nanoTime();
            for (int c = 0; c < copies; c++) {
                layers[c] = PackedLinear.pack(w, b, n, k, arena);
            }
            double packSeconds = (System.nanoTime() - packStart) * 1e-9;

            double flops = 2.0 * m * k * n;
            // Enough calls per sample for about 20 ms, so short shapes are not timer noise.
            int callsPerSample = (int) Math.max(copies, Math.min(1_000_000, 20e-3 * 50e9 / flops));
            int[] next = {0};
            double[] seconds = sortedSeconds(samples, callsPerSample, () -> {
                Linear.forward(pool, x, m, layers[next[0]], y, Activation.NONE);
                next[0] = next[0] + 1 == copies ? 0 : next[0] + 1;
            });
            double median = seconds[samples / 2];
            return String.format(Locale.ROOT,
                    "bertj Linear m=%d k=%d n=%d threads=%d (%d-bit vectors): %.1f us, weights %.2f MB x %d copies "
                            + "packed at %.1f GB/s, streamed at %.1f GB/s, best %.1f GFLOP/s, median GFLOP/s: %.1f",
                    m, k, n, threads, VectorSupport.vectorBits(), median * 1e6, weightBytes / 1e6, copies,
                    weightBytes * copies / packSeconds / 1e9, weightBytes / median / 1e9, flops / seconds[0] / 1e9,
                    flops / median / 1e9);
        }
    }

    /** One timed call; ONNX Runtime's throw checked exceptions. */
    interface Call {
        void run() throws Exception;
    }

    /**
     * Seconds per call of {@code samples} samples of {@code callsPerSample} calls each, after half as many
     * (at least 5) untimed samples and at least {@link #WARMUP_NANOS} of them (C2 needs thousands of loop
     * iterations: a few calls of a large shape left the kernel interpreted); sorted, so the median is
     * {@code [samples / 2]} and the best {@code [0]}.
     */
    static double[] sortedSeconds(int samples, int callsPerSample, Call call) {
        double[] seconds = new double[samples];
        try {
            long warmupEnd = System.nanoTime() + WARMUP_NANOS;
            for (int s = -Math.max(5, samples / 2); s < 0 || System.nanoTime() < warmupEnd; s++) {
                for (int c = 0; c < callsPerSample; c++) {
                    call.run();
                }
            }
            for (int s = 0; s < samples; s++) {
                long start = System.nanoTime();
                for (int c = 0; c < callsPerSample; c++) {
                    call.run();
                }
                seconds[s] = (System.nanoTime() - start) * 1e-9 / callsPerSample;
            }
        } catch (Exception e) {
            throw new IllegalStateException("a timed call failed: " + e.getMessage(), e);
        }
        Arrays.sort(seconds);
        return seconds;
    }

    private static MemorySegment fill(MemorySegment segment, Random random) {
        for (long i = 0; i < segment.byteSize() / 4; i++) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextFloat() * 2 - 1);
        }
        return segment;
    }
}
