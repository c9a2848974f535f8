package bertj.bench.kernels;

import bertj.bench.BenchmarkDefaults;
import bertj.kernels.Activation;
import bertj.kernels.Linear;
import bertj.kernels.PackedLinear;
import bertj.kernels.ThreadPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * GFLOP/s of {@link Linear#forward} on BERT's Linear shapes: {@code kn} is K x N of bert-base (768x768,
 * 768x3072, 3072x768) and MiniLM (384x384, 384x1536, 1536x384), {@code m} the tokens. The {@code flops}
 * counter of the {@code Throughput} result is in GFLOP per second; {@code weightBytes} is the weights
 * streamed, in GB/s (the bound at small m).
 *
 * <p>As in a model, where each layer's weights are read once per pass, calls cycle through copies of the
 * weights totalling 256 MB, more than the caches. Example:
 * {@code ./bertj bench jmh LinearBenchmark -p m=128 -p kn=768x3072 -p threads=1,2}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LinearBenchmark extends BenchmarkDefaults {
    @Param({"1", "8", "32", "128", "512"})
    public int m;

    @Param({"768x768", "768x3072", "3072x768", "384x384", "384x1536", "1536x384"})
    public String kn;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private ThreadPool pool;
    private PackedLinear[] layers;
    private MemorySegment x;
    private MemorySegment y;
    private int next;
    int k;
    int n;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = kn.split("x");
        k = Integer.parseInt(parts[0]);
        n = Integer.parseInt(parts[1]);
        arena = Arena.ofShared();
        pool = new ThreadPool(threads);
        Random random = new Random(1);
        x = random(arena, (long) m * k, random);
        y = arena.allocate(4L * m * n, 64);
        MemorySegment w = random(arena, (long) n * k, random);
        MemorySegment b = random(arena, n, random);
        int copies = (int) Math.max(1, (256L << 20) / (4L * n * k));
        layers = new PackedLinear[copies];
        for (int i = 0; i < copies; i++) {
            layers[i] = PackedLinear.pack(w, b, n, k, arena, pool);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    /** Per-thread counters reported as rates: GFLOP/s and GB/s of weights. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double flops;
        public double weightBytes;

        @Setup(Level.Iteration)
        public void reset() {
            flops = 0;
            weightBytes = 0;
        }
    }

    @Benchmark
    public void linear(Rates rates) {
        Linear.forward(pool, x, m, layers[next], y, Activation.NONE);
        next = next + 1 == layers.length ? 0 : next + 1;
        rates.flops += 2e-9 * m * k * n;
        rates.weightBytes += 4e-9 * k * n;
    }

    static MemorySegment random(Arena arena, long count, Random random) {
        MemorySegment s = arena.allocate(4 * count, 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextFloat() * 2 - 1);
        }
        return s;
    }
}
