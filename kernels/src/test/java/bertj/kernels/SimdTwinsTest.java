package bertj.kernels;

import static bertj.kernels.TestData.F;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SimdTwins against the SIMD kernels: the same bits, float for float (NaNs compared as NaN), on odd sizes,
 * tails, several k blocks, padded and masked keys, and the activations' special values.
 */
class SimdTwinsTest {
    private static ThreadPool single;
    private static ThreadPool two;

    @BeforeAll
    static void pools() {
        single = new ThreadPool(1);
        two = new ThreadPool(2);
    }

    @AfterAll
    static void closePools() {
        single.close();
        two.close();
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void linearGivesTheSimdBits(Activation act) {
        int[][] shapes = {{1, 7, 5}, {3, 384, 70}, {4, 33, 97}, {5, 100, 32}, {9, 64, 33}, {17, 48, 16}, {2, 3100, 40}};
        Random random = new Random(act.ordinal());
        for (int[] shape : shapes) {
            int m = shape[0], k = shape[1], n = shape[2];
            try (Arena arena = Arena.ofShared()) {
                // Wide values, so that GELU and tanh take both their small and large branches.
                MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
                MemorySegment weight = TestData.uniform(arena, random, (long) n * k, -4f / (float) Math.sqrt(k), 4f / (float) Math.sqrt(k));
                MemorySegment bias = TestData.uniform(arena, random, n, -3, 3);
                PackedLinear w = PackedLinear.pack(weight, bias, n, k, arena);
                MemorySegment simd = TestData.zeros(arena, (long) m * n);
                MemorySegment twin = TestData.zeros(arena, (long) m * n);
                for (ThreadPool pool : new ThreadPool[] {single, two}) {
                    Linear.forward(pool, x, m, w, simd, act);
                    SimdTwins.linear(pool, x, m, w, twin, act);
                    assertSameBits(simd, twin, (long) m * n, "linear " + act + " m=" + m + " k=" + k + " n=" + n);
                }
            }
        }
    }

    @Test
    void activationsGiveTheSimdBitsOnSpecialValues() {
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 0.5f, -0.5f, 0.99f, 1f, 1.01f,
                1.4142135f, -1.4142135f, 1.5f, -1.5f, 3f, -3f, 5.5f, -5.5f, 9f, -9f, 14f, -14f, 20f, -20f, 90f, -90f,
                200f, -200f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, 0.625f, -0.625f, 0.63f, -0.63f, 44f, -44f};
        Random random = new Random(11);
        int count = (special.length + 3000) / VectorSupport.floatLanes() * VectorSupport.floatLanes();
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = i < special.length ? special[i] : (float) (random.nextGaussian() * (i % 3 == 0 ? 10 : 2));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = TestData.of(arena, values);
            check("geluErf", arena, v, count, s -> VectorMath.geluErf(s, 0, count), SimdTwins::geluErf);
            check("geluTanh", arena, v, count, s -> VectorMath.geluTanh(s, 0, count), SimdTwins::geluTanh);
            check("tanh", arena, v, count, s -> VectorMath.tanh(s, 0, count), SimdTwins::tanh);
        }
    }

    private interface FloatFunction {
        float apply(float v);
    }

    private static void check(String name, Arena arena, MemorySegment values, int count,
            java.util.function.Consumer<MemorySegment> simd, FloatFunction twin) {
        MemorySegment expected = TestData.copy(arena, values);
        simd.accept(expected);
        for (int i = 0; i < count; i++) {
            float v = values.getAtIndex(F, i);
            assertSameBits(expected.getAtIndex(F, i), twin.apply(v), name + "(" + v + ")");
        }
    }

    @Test
    void attentionGivesTheSimdBits() {
        // Sequence lengths around the tile sizes, some with padding after the keys, one with masked holes.
        int[] lengths = {1, 3, 8, 16, 17, 33, 40, 70};
        int[] keys = {1, 2, 8, 16, 10, 33, 31, 70};
        int heads = 3, headSize = 20, hidden = heads * headSize;
        int[] starts = new int[lengths.length + 1];
        long probsFloats = 0;
        for (int s = 0; s < lengths.length; s++) {
            starts[s + 1] = starts[s] + lengths[s];
            probsFloats += (long) heads * lengths[s] * lengths[s];
        }
        int tokens = starts[lengths.length];
        Random random = new Random(5);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment qkv = TestData.uniform(arena, random, (long) tokens * 3 * hidden, -2, 2);
            int[] mask = new int[tokens];
            java.util.Arrays.fill(mask, 1);
            for (int t = starts[6] + 3; t < starts[6] + 9; t++) mask[t] = 0;
            for (int[] maskOrNull : new int[][] {null, mask}) {
                for (ThreadPool pool : new ThreadPool[] {single, two}) {
                    MemorySegment simdOut = TestData.zeros(arena, (long) tokens * hidden);
                    MemorySegment twinOut = TestData.zeros(arena, (long) tokens * hidden);
                    MemorySegment simdProbs = TestData.zeros(arena, probsFloats);
                    MemorySegment twinProbs = TestData.zeros(arena, probsFloats);
                    Attention.forward(pool, qkv, starts, keys, heads, headSize, maskOrNull, simdOut, simdProbs);
                    SimdTwins.attention(pool, qkv, starts, keys, heads, headSize, maskOrNull, twinOut, twinProbs);
                    String what = "attention, mask " + (maskOrNull != null) + ", threads " + pool.threads();
                    assertSameBits(simdOut, twinOut, (long) tokens * hidden, what + ", output");
                    assertSameBits(simdProbs, twinProbs, probsFloats, what + ", probabilities");
                }
            }
        }
    }

    @Test
    void layerNormGivesTheSimdBits() {
        Random random = new Random(9);
        for (int cols : new int[] {1, 3, 16, 17, 100, 384, 777}) {
            int rows = 7;
            try (Arena arena = Arena.ofShared()) {
                MemorySegment x = TestData.uniform(arena, random, (long) rows * cols, -5, 5);
                MemorySegment residual = TestData.uniform(arena, random, (long) rows * cols, -5, 5);
                MemorySegment gamma = TestData.uniform(arena, random, cols, 0.5f, 1.5f);
                MemorySegment beta = TestData.uniform(arena, random, cols, -1, 1);
                for (MemorySegment r : new MemorySegment[] {null, residual}) {
                    MemorySegment simd = TestData.zeros(arena, (long) rows * cols);
                    MemorySegment twin = TestData.zeros(arena, (long) rows * cols);
                    Norms.addLayerNorm(two, x, r, rows, cols, gamma, beta, 1e-12f, simd);
                    SimdTwins.addLayerNorm(two, x, r, rows, cols, gamma, beta, 1e-12f, twin);
                    assertSameBits(simd, twin, (long) rows * cols, "layer norm cols=" + cols + " residual=" + (r != null));
                }
            }
        }
    }

    private static void assertSameBits(MemorySegment expected, MemorySegment actual, long count, String what) {
        for (long i = 0; i < count; i++) {
            assertSameBits(expected.getAtIndex(F, i), actual.getAtIndex(F, i), what + " at " + i);
        }
    }

    private static void assertSameBits(float expected, float actual, String what) {
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual),
                what + ": SIMD " + expected + ", twin " + actual);
    }
}
