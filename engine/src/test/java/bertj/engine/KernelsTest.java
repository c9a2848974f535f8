package bertj.engine;

import bertj.kernels.Activation;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The implementations of {@link Kernels}: the SIMD kernels and their twins give the same bits, the reference's
 * stacked Linear computes each part as the part alone, and the profiling wrapper changes no result.
 */
class KernelsTest {
    private static final int M = 5, K = 13, N1 = 7, N2 = 11;

    private static MemorySegment random(Arena arena, Random random, int floats) {
        MemorySegment s = arena.allocate(4L * floats, 64);
        for (int i = 0; i < floats; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, random.nextFloat() * 2 - 1);
        return s;
    }

    private static float[] floats(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** y of a fused linear of two parts, and of the LayerNorm of its first N1 columns' rows, by {@code kernels}. */
    private static float[] run(Kernels kernels, Arena arena, long seed) {
        return run(kernels, arena, seed, Precision.FP32);
    }

    private static float[] run(Kernels kernels, Arena arena, long seed, Precision precision) {
        Random random = new Random(seed);
        MemorySegment x = random(arena, random, M * K);
        MemorySegment[] weights = {random(arena, random, N1 * K), random(arena, random, N2 * K)};
        MemorySegment[] biases = {random(arena, random, N1), random(arena, random, N2)};
        Kernels.LinearWeights w = kernels.prepareLinear("test", weights, biases, null, K, N1 + N2, arena, PackedCache.none(precision));
        MemorySegment y = arena.allocate(4L * M * (N1 + N2), 64);
        kernels.linear(x, M, w, y, Activation.GELU_ERF);
        MemorySegment gamma = random(arena, random, N1 + N2), beta = random(arena, random, N1 + N2);
        MemorySegment residual = random(arena, random, M * (N1 + N2));
        MemorySegment out = arena.allocate(4L * M * (N1 + N2), 64);
        kernels.addLayerNorm(y, residual, M, N1 + N2, gamma, beta, 1e-12f, out);
        float[] linear = floats(y), norm = floats(out), both = new float[linear.length + norm.length];
        System.arraycopy(linear, 0, both, 0, linear.length);
        System.arraycopy(norm, 0, both, linear.length, norm.length);
        return both;
    }

    @Test
    void simdKernelsAndTheirTwinsGiveTheSameBits() {
        try (ThreadPool pool = new ThreadPool(2); Arena arena = Arena.ofShared()) {
            Kernels simd = Kernels.of(KernelMode.VECTOR, pool).unprofiled();
            Kernels twins = simd.simdTwins();
            assertInstanceOf(Kernels.Twins.class, twins);
            assertArrayEquals(run(simd, arena, 1), run(twins, arena, 1));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"BF16", "INT8"})
    void inAReducedPrecisionTheTwinsGiveTheSameBitsAndTheReferenceRoundsAsThePacking(Precision precision) {
        try (ThreadPool pool = new ThreadPool(2); Arena arena = Arena.ofShared()) {
            Kernels simd = Kernels.of(KernelMode.VECTOR, pool).unprofiled();
            float[] fast = run(simd, arena, 4, precision);
            assertArrayEquals(fast, run(simd.simdTwins(), arena, 4, precision));
            // The reference accumulates in double on the same rounded weights: within float accumulation's error,
            // and far from the float32 weights' results (which the rounding moves by about 1e-3 here).
            float[] reference = run(Kernels.REFERENCE, arena, 4, precision);
            float[] full = run(simd, arena, 4, Precision.FP32);
            double nearest = 0, fromFull = 0;
            for (int i = 0; i < fast.length; i++) {
                nearest = Math.max(nearest, Math.abs(fast[i] - reference[i]));
                fromFull = Math.max(fromFull, Math.abs(fast[i] - full[i]));
            }
            assertTrue(nearest < 2e-5, "reduced SIMD vs reduced reference: " + nearest);
            assertTrue(fromFull > 10 * nearest, "reduced vs float32 weights: " + fromFull + ", reference " + nearest);
        }
    }

    @Test
    void profilingChangesNoResult() {
        try (ThreadPool pool = new ThreadPool(2); Arena arena = Arena.ofShared()) {
            Kernels simd = new Kernels.Simd(pool);
            Kernels profiled = new Kernels.Profiled(simd);
            assertSame(simd, profiled.unprofiled());
            assertInstanceOf(Kernels.Profiled.class, profiled.simdTwins());
            assertInstanceOf(Kernels.Twins.class, profiled.simdTwins().unprofiled());
            assertArrayEquals(run(simd, arena, 2), run(profiled, arena, 2));
            Kernels reference = new Kernels.Profiled(Kernels.REFERENCE);
            assertSame(reference, reference.simdTwins());
            assertArrayEquals(run(Kernels.REFERENCE, arena, 3), run(reference, arena, 3));
        }
    }

    @Test
    void referenceStacksTheFusedPartsAsTheyAreAlone() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(4);
            MemorySegment x = random(arena, random, M * K);
            MemorySegment[] weights = {random(arena, random, N1 * K), random(arena, random, N2 * K)};
            MemorySegment[] biases = {random(arena, random, N1), random(arena, random, N2)};
            Kernels ref = Kernels.REFERENCE;
            assertSame(ref, Kernels.of(KernelMode.SCALAR, null).unprofiled());
            MemorySegment fused = arena.allocate(4L * M * (N1 + N2));
            ref.linear(x, M, ref.prepareLinear("qk", weights, biases, null, K, N1 + N2, arena, null), fused, Activation.NONE);
            int[] parts = {N1, N2};
            for (int p = 0, column = 0; p < 2; column += parts[p], p++) {
                MemorySegment alone = arena.allocate(4L * M * parts[p]);
                ref.linear(x, M, ref.prepareLinear("part", new MemorySegment[] {weights[p]}, new MemorySegment[] {biases[p]},
                        null, K, parts[p], arena, null), alone, Activation.NONE);
                for (int r = 0; r < M; r++) {
                    for (int c = 0; c < parts[p]; c++) {
                        assertEquals(alone.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * parts[p] + c),
                                fused.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * (N1 + N2) + column + c), 0f);
                    }
                }
            }
        }
    }
}
