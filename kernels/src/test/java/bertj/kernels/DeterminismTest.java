package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The same inputs give the same bits on every call: before the JIT compiles a kernel (the Vector API's
 * Java fallback) and after (C2 intrinsics). Sums of vector lanes must therefore not use
 * {@code reduceLanes(ADD)}, whose order the two forms choose differently.
 */
class DeterminismTest {
    private static final int CALLS = 20_000;

    @Test
    void layerNormSoftmaxAndActivationsRepeatBitForBit() {
        Random random = new Random(21);
        int cols = 37;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.uniform(arena, random, cols, -3, 3);
            MemorySegment residual = TestData.uniform(arena, random, cols, -3, 3);
            MemorySegment gamma = TestData.uniform(arena, random, cols, -2, 2);
            MemorySegment beta = TestData.uniform(arena, random, cols, -2, 2);
            MemorySegment out = TestData.zeros(arena, cols);
            MemorySegment first = null;
            for (int call = 0; call < CALLS; call++) {
                Norms.addLayerNorm(x, residual, 1, cols, gamma, beta, 1e-12f, out);
                Softmax.rows(out, 1, cols, null);
                Activations.geluErf(out, cols);
                if (first == null) {
                    first = TestData.copy(arena, out);
                } else {
                    assertEquals(-1, first.mismatch(out), "call " + call + " differs from the first");
                }
            }
        }
    }

    @Test
    void linearAndAttentionRepeatBitForBit() {
        Random random = new Random(22);
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(2)) {
            int m = 5;
            int k = 40;
            int n = 24;
            MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
            PackedLinear w = PackedLinear.pack(TestData.uniform(arena, random, (long) n * k, -1, 1), null, n, k, arena);
            MemorySegment qkv = TestData.zeros(arena, (long) m * n);
            MemorySegment out = TestData.zeros(arena, (long) m * n / 3);
            MemorySegment first = null;
            for (int call = 0; call < CALLS / 4; call++) {
                Linear.forward(pool, x, m, w, qkv, Activation.GELU_TANH);
                Attention.forward(pool, qkv, 1, m, 2, n / 6, null, out, null);
                if (first == null) {
                    first = TestData.copy(arena, out);
                } else {
                    assertEquals(-1, first.mismatch(out), "call " + call + " differs from the first");
                }
            }
        }
    }

    @Test
    void linearGivesTheSameBitsOnEveryPoolSize() {
        Random random = new Random(23);
        int m = 37;
        int k = 300;
        int n = 101;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
            PackedLinear w = PackedLinear.pack(TestData.uniform(arena, random, (long) n * k, -1, 1),
                    TestData.uniform(arena, random, n, -1, 1), n, k, arena);
            MemorySegment first = null;
            for (int threads = 1; threads <= 4; threads++) {
                try (ThreadPool pool = new ThreadPool(threads)) {
                    MemorySegment y = TestData.zeros(arena, (long) m * n);
                    Linear.forward(pool, x, m, w, y, Activation.GELU_ERF);
                    if (first == null) {
                        first = y;
                    } else {
                        assertEquals(-1, first.mismatch(y), threads + " threads differ from one");
                    }
                }
            }
        }
    }
}
