package bertj.bench.kernels;

import bertj.bench.BenchmarkDefaults;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The int8 lever the Vector API lacks, measured: C2 compiles {@code acc[i] += a[2i] * b[2i] + a[2i+1] * b[2i+1]}
 * over short arrays into {@code vpdpwssd} on AVX512_VNNI (its MulAddS2I pattern; with -XX:-UseSuperWord the same
 * loop runs about 7x slower). Both operands must be arrays, so the accumulators go through memory every k pair
 * and the activation pair is spread over the row. Multiply-adds per nanosecond (= GMAC/s) for one output row of
 * {@value #N} int32 accumulators over {@value #K_PAIRS} k pairs, everything in L1; bertj's float 8 x 2 register
 * tile does about 100 GMAC/s (205-222 GFLOP/s) on this machine's core.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Int16PairsBenchmark extends BenchmarkDefaults {
    static final int N = 512, K_PAIRS = 4;

    private final int[] acc = new int[N];
    private short[] activations, weights;

    @Setup
    public void setUp() {
        Random random = new Random(1);
        activations = new short[2 * K_PAIRS * N];
        weights = new short[2 * K_PAIRS * N];
        for (int i = 0; i < weights.length; i++) {
            activations[i] = (short) (random.nextInt(255) - 127);
            weights[i] = (short) (random.nextInt(255) - 127);
        }
    }

    @Benchmark
    @OperationsPerInvocation(2 * K_PAIRS * N)
    public int[] int16Pairs() {
        for (int p = 0; p < K_PAIRS; p++) {
            int base = 2 * p * N;
            for (int i = 0; i < N; i++) {
                acc[i] += activations[base + 2 * i] * weights[base + 2 * i] + activations[base + 2 * i + 1] * weights[base + 2 * i + 1];
            }
        }
        return acc;
    }
}
