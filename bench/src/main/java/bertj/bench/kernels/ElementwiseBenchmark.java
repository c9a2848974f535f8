package bertj.bench.kernels;

import bertj.bench.BenchmarkDefaults;
import bertj.kernels.Activations;
import bertj.kernels.Norms;
import bertj.kernels.Softmax;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Nanoseconds per row of the element-wise kernels, single-threaded, on {@value #ROWS} rows of {@code cols}
 * floats (BERT: softmax over seqLen scores, GELU over the 4 x hidden intermediate, LayerNorm over hidden).
 * Each row is read and written in place, so the data stays in L2 as in a layer.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ElementwiseBenchmark extends BenchmarkDefaults {
    static final int ROWS = 64;

    @Param({"128", "384", "768", "1536", "3072"})
    public int cols;

    private Arena arena;
    private MemorySegment x;
    private MemorySegment residual;
    private MemorySegment out;
    private MemorySegment gamma;
    private MemorySegment beta;
    private MemorySegment mask;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        Random random = new Random(1);
        x = LinearBenchmark.random(arena, (long) ROWS * cols, random);
        residual = LinearBenchmark.random(arena, (long) ROWS * cols, random);
        out = arena.allocate(4L * ROWS * cols, 64);
        gamma = LinearBenchmark.random(arena, cols, random);
        beta = LinearBenchmark.random(arena, cols, random);
        mask = arena.allocate(4L * cols, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void softmax() {
        out.copyFrom(x); // softmax is idempotent-ish but would saturate; restart from the same scores
        Softmax.rows(out, ROWS, cols, mask);
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void copyOnly() {
        out.copyFrom(x); // the copy included in softmax/gelu, to subtract
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void geluErf() {
        out.copyFrom(x);
        Activations.geluErf(out, (long) ROWS * cols);
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void geluTanh() {
        out.copyFrom(x);
        Activations.geluTanh(out, (long) ROWS * cols);
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void addLayerNorm() {
        Norms.addLayerNorm(x, residual, ROWS, cols, gamma, beta, 1e-12f, out);
    }
}
