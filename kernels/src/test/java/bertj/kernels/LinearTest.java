package bertj.kernels;

import static bertj.kernels.TestData.F;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Linear.forward against its scalar twin (double accumulation on the unpacked weights).
 *
 * <p>Tolerance: float accumulation of a k-term dot product is off by at most about k * 2^-24 of
 * {@code sum |x| |w|}; we allow {@code 1e-5 (1 + |b| + sum_k |x| |w|)} before the activation (the
 * activations' slopes are at most 1.13) plus {@code 2e-6 |expected|} for the vector activation itself.
 */
class LinearTest {
    private static ThreadPool single;
    private static ThreadPool two;
    private static ThreadPool three;

    @BeforeAll
    static void pools() {
        single = new ThreadPool(1);
        two = new ThreadPool(2);
        three = new ThreadPool(3);
    }

    @AfterAll
    static void closePools() {
        single.close();
        two.close();
        three.close();
    }

    @Test
    void everyRowCountAndColumnTail() {
        int[] ns = {1, 3, 15, 16, 17, 31, 33, 47, 49, 64, 65};
        // Every tail of the last tile, over several tiles.
        for (int m = 1; m <= 4 * Tuning.TILE_ROWS + 5; m++) {
            for (int n : ns) {
                check(single, m, 37, n, true, Activation.NONE, 1000L * m + n);
            }
        }
    }

    @Test
    void oddAndBlockedKs() {
        int[] ks = {1, 2, 3, 17, 31, 33, 255, 256, 257, 383, 385, 513, 767, 769, 1023, 1024, 1025, 2049, 3071, 3072, 3073, 6145};
        for (int k : ks) {
            check(single, 5, k, 19, true, Activation.NONE, k);
            check(two, 9, k, 33, false, Activation.NONE, k + 1);
        }
    }

    @Test
    void bertShapes() {
        check(two, 7, 768, 768, true, Activation.NONE, 1);
        check(two, 33, 384, 1536, true, Activation.GELU_ERF, 2);
        check(three, 130, 385, 97, true, Activation.NONE, 3);
        check(single, 129, 769, 33, true, Activation.NONE, 4);
    }

    @Test
    void rowBlocksBeyondOneTask() {
        check(two, 300, 64, 40, true, Activation.NONE, 5);
        check(three, 257, 300, 17, true, Activation.RELU, 6);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void fusedActivations(Activation act) {
        check(single, 6, 40, 35, true, act, act.ordinal());
        check(two, 17, 300, 70, true, act, act.ordinal() + 10);
    }

    @Test
    void inputsLargerThanOneCopyOfXGoInPassesOfRows() {
        long maxXFloats = 1000; // passes of ROW_BLOCK rows
        GemmPlan plan = GemmPlan.of(2 * Tuning.ROW_BLOCK + 37, 40, 33, 1, maxXFloats);
        assertEquals(Tuning.ROW_BLOCK, plan.passRows());
        assertEquals(3, plan.passes());
        check(single, 2 * Tuning.ROW_BLOCK + 37, 40, 33, true, Activation.GELU_ERF, 17, maxXFloats);
        check(two, 3 * Tuning.ROW_BLOCK, 24, 16, false, Activation.NONE, 18, maxXFloats);
        check(two, Tuning.ROW_BLOCK + 3, 24, 16, true, Activation.NONE, 19, maxXFloats); // a last pass of 4-row tiles
    }

    @Test
    void fusedQkvOfThreePartsEqualsThreeSeparateLayers() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(42);
            int m = 11;
            int k = 70;
            int[] parts = {24, 17, 24};
            MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
            MemorySegment[] weights = new MemorySegment[3];
            MemorySegment[] biases = new MemorySegment[3];
            for (int i = 0; i < 3; i++) {
                MemorySegment weight = TestData.uniform(arena, random, (long) parts[i] * k, -1, 1);
                weights[i] = TestData.misalignedReadOnly(arena, weight);
                biases[i] = i == 1 ? null : TestData.uniform(arena, random, parts[i], -1, 1);
            }
            PackedLinear fused = PackedLinear.pack(weights, biases, k, arena);
            assertEquals(65, fused.n());
            MemorySegment y = TestData.zeros(arena, (long) m * fused.n());
            Linear.forward(two, x, m, fused, y, Activation.NONE);
            int column = 0;
            for (int i = 0; i < 3; i++) {
                MemorySegment expected = TestData.zeros(arena, (long) m * parts[i]);
                ReferenceKernels.linear(x, m, weights[i], biases[i], parts[i], k, expected, Activation.NONE);
                for (int r = 0; r < m; r++) {
                    for (int c = 0; c < parts[i]; c++) {
                        float want = TestData.get(expected, (long) r * parts[i] + c);
                        float got = TestData.get(y, (long) r * fused.n() + column + c);
                        assertEquals(want, got, 1e-5 * (1 + k), "part " + i + " row " + r + " col " + c);
                    }
                }
                column += parts[i];
            }
        }
    }

    @Test
    void weightsPackedEarlierGiveTheSameBitsAsPackingNow() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(9);
            int[] parts = {24, 17};
            int k = 300;
            int m = 21;
            MemorySegment[] weights = new MemorySegment[parts.length];
            MemorySegment[] biases = new MemorySegment[parts.length];
            for (int i = 0; i < parts.length; i++) {
                weights[i] = TestData.uniform(arena, random, (long) parts[i] * k, -1, 1);
                biases[i] = TestData.uniform(arena, random, parts[i], -1, 1);
            }
            PackedLinear now = PackedLinear.pack(weights, biases, k, arena);
            assertEquals(PackedLinear.packedBytes(now.n(), k), now.packedData().byteSize());
            // As a cache file would hand them back: a copy at another address.
            MemorySegment stored = TestData.copy(arena, now.packedData());
            PackedLinear earlier = PackedLinear.ofPacked(stored, k, parts, biases);
            MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
            MemorySegment y1 = TestData.zeros(arena, (long) m * now.n());
            MemorySegment y2 = TestData.zeros(arena, (long) m * now.n());
            Linear.forward(two, x, m, now, y1, Activation.GELU_ERF);
            Linear.forward(two, x, m, earlier, y2, Activation.GELU_ERF);
            assertEquals(-1, y1.mismatch(y2));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PackedLinear.ofPacked(stored.asSlice(4), k, parts, biases));
            assertContains(e.getMessage(), "expected " + PackedLinear.packedBytes(now.n(), k));
            assertThrows(IllegalArgumentException.class, () -> PackedLinear.ofPacked(stored, k, new int[] {24, 100}, null));
            assertThrows(IllegalArgumentException.class, () -> PackedLinear.ofPacked(stored, k, parts, new MemorySegment[1]));
        }
    }

    @Test
    void packingOnThePoolGivesTheSameBytes() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(8);
            for (int[] nk : new int[][] {{1, 1}, {17, 300}, {200, 513}, {3 * 64, 64}}) {
                int n = nk[0];
                int k = nk[1];
                MemorySegment weight = TestData.uniform(arena, random, (long) n * k, -1, 1);
                MemorySegment w = TestData.misalignedReadOnly(arena, weight);
                PackedLinear serial = PackedLinear.pack(w, null, n, k, arena);
                PackedLinear parallel = PackedLinear.pack(w, null, n, k, arena, three);
                assertEquals(-1, serial.packed().mismatch(parallel.packed()), "n=" + n + " k=" + k);
            }
        }
    }

    @Test
    void rejectsBadShapesWithTheirNames() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = TestData.zeros(arena, 6);
            PackedLinear packed = PackedLinear.pack(w, null, 2, 3, arena);
            MemorySegment x = TestData.zeros(arena, 3);
            MemorySegment y = TestData.zeros(arena, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Linear.forward(single, x, 2, packed, y, Activation.NONE));
            assertContains(e.getMessage(), "x has 3 floats");
            e = assertThrows(IllegalArgumentException.class, () -> PackedLinear.pack(w, null, 4, 3, arena));
            assertContains(e.getMessage(), "weight has 24 bytes");
            e = assertThrows(IllegalArgumentException.class,
                    () -> PackedLinear.pack(new MemorySegment[] {w, TestData.zeros(arena, 4)}, null, 3, arena));
            assertContains(e.getMessage(), "weights[1]");
            e = assertThrows(IllegalArgumentException.class,
                    () -> PackedLinear.pack(w, TestData.zeros(arena, 3), 2, 3, arena));
            assertContains(e.getMessage(), "biases[0]");
        }
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment w = TestData.zeros(confined, 6);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PackedLinear.pack(w, null, 2, 3, confined));
            assertContains(e.getMessage(), "confined");
            try (Arena shared = Arena.ofShared()) {
                PackedLinear packed = PackedLinear.pack(w, null, 2, 3, shared);
                MemorySegment x = TestData.zeros(confined, 3);
                MemorySegment y = TestData.zeros(shared, 2);
                e = assertThrows(IllegalArgumentException.class,
                        () -> Linear.forward(two, x, 1, packed, y, Activation.NONE));
                assertContains(e.getMessage(), "x is confined");
                // A single-threaded pool runs on the caller, so confined activations are fine there.
                Linear.forward(single, x, 1, packed, y, Activation.NONE);
            }
        }
    }

    static void assertContains(String message, String part) {
        if (message == null || !message.contains(part)) {
            fail("expected the message to contain '" + part + "', got: " + message);
        }
    }

    /** Runs the vector kernel and the scalar twin on random data and compares every element. */
    static void check(ThreadPool pool, int m, int k, int n, boolean withBias, Activation act, long seed) {
        check(pool, m, k, n, withBias, act, seed, Tuning.X_COPY_FLOATS);
    }

    /** {@link #check}, with at most {@code maxXFloats} floats of x per pass over the weights. */
    static void check(ThreadPool pool, int m, int k, int n, boolean withBias, Activation act, long seed,
            long maxXFloats) {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(seed);
            MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1, 1);
            MemorySegment w = TestData.uniform(arena, random, (long) n * k, -1, 1);
            MemorySegment b = withBias ? TestData.uniform(arena, random, n, -2, 2) : null;
            MemorySegment y = TestData.uniform(arena, random, (long) m * n, 100, 200); // stale values must not leak
            MemorySegment expected = TestData.zeros(arena, (long) m * n);
            PackedLinear packed = PackedLinear.pack(TestData.misalignedReadOnly(arena, w),
                    b == null ? null : TestData.misalignedReadOnly(arena, b), n, k, arena);
            Linear.forward(pool, x, m, packed, y, act, maxXFloats);
            ReferenceKernels.linear(x, m, w, b, n, k, expected, act);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double scale = 1 + (b == null ? 0 : Math.abs(b.getAtIndex(F, j)));
                    for (int kk = 0; kk < k; kk++) {
                        scale += Math.abs(x.getAtIndex(F, (long) i * k + kk) * w.getAtIndex(F, (long) j * k + kk));
                    }
                    float want = expected.getAtIndex(F, (long) i * n + j);
                    float got = y.getAtIndex(F, (long) i * n + j);
                    double tolerance = 1e-5 * scale + 2e-6 * Math.abs(want);
                    if (!(Math.abs(want - got) <= tolerance)) {
                        fail("m=" + m + " k=" + k + " n=" + n + " " + act + " threads=" + pool.threads() + ": y[" + i
                                + ", " + j + "] = " + got + ", expected " + want + " +- " + tolerance);
                    }
                }
            }
        }
    }
}
