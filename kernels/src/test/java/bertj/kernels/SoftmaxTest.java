package bertj.kernels;

import static bertj.kernels.TestData.MASKED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Softmax.rows against its scalar twin (exp and sum in double) within 2e-6 relative + 1e-9 absolute (the
 * float exp is within 2 ulp, the float sum of up to 769 terms within a few ulp), and PyTorch's answers on
 * special rows.
 */
class SoftmaxTest {
    @Test
    void matchesTheScalarTwinOnEveryTail() {
        Random random = new Random(7);
        for (int cols : new int[] {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 383, 385, 767, 769}) {
            for (boolean masked : new boolean[] {false, true}) {
                try (Arena arena = Arena.ofConfined()) {
                    int rows = 5;
                    MemorySegment x = TestData.uniform(arena, random, (long) rows * cols, -20, 20);
                    MemorySegment mask = null;
                    if (masked) {
                        mask = TestData.zeros(arena, cols);
                        for (int c = 0; c < cols; c++) {
                            mask.setAtIndex(TestData.F, c, c % 3 == 2 ? MASKED : random.nextFloat() - 0.5f);
                        }
                    }
                    MemorySegment expected = TestData.copy(arena, x);
                    Softmax.rows(x, rows, cols, mask);
                    ReferenceKernels.softmax(expected, rows, cols, mask);
                    for (int i = 0; i < rows * cols; i++) {
                        float want = TestData.get(expected, i);
                        float got = TestData.get(x, i);
                        if (!(Math.abs(want - got) <= 2e-6 * want + 1e-9)) {
                            fail("cols " + cols + " masked " + masked + " index " + i + ": " + got + " vs " + want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void specialRowsBehaveAsPyTorch() {
        float inf = Float.POSITIVE_INFINITY;
        try (Arena arena = Arena.ofConfined()) {
            // Large magnitudes: max subtraction keeps them finite.
            assertRow(arena, new float[] {1e30f, 1e30f, -1e30f}, null, 0.5f, 0.5f, 0f);
            assertRow(arena, new float[] {3e38f, 0f}, null, 1f, 0f);
            // Padding masked with float32's minimum gets exactly zero.
            assertRow(arena, new float[] {2f, 2f, 7f}, new float[] {0f, 0f, MASKED}, 0.5f, 0.5f, 0f);
            // Every entry masked with float32's minimum: all equal after the add, so uniform (as PyTorch).
            assertRow(arena, new float[] {1f, -3f, 5f, 0f}, new float[] {MASKED, MASKED, MASKED, MASKED},
                    0.25f, 0.25f, 0.25f, 0.25f);
            // -inf everywhere: NaN (as torch.softmax).
            assertRow(arena, new float[] {-inf, -inf, -inf}, null, Float.NaN, Float.NaN, Float.NaN);
            // NaN anywhere poisons the row.
            assertRow(arena, new float[] {1f, Float.NaN, 2f}, null, Float.NaN, Float.NaN, Float.NaN);
            // -inf only in some entries: those get zero.
            assertRow(arena, new float[] {0f, -inf, 0f}, null, 0.5f, 0f, 0.5f);
            assertRow(arena, new float[] {42f}, null, 1f);
        }
    }

    private static void assertRow(Arena arena, float[] values, float[] mask, float... expected) {
        for (boolean vector : new boolean[] {true, false}) {
            MemorySegment x = TestData.of(arena, values);
            MemorySegment m = mask == null ? null : TestData.of(arena, mask);
            if (vector) {
                Softmax.rows(x, 1, values.length, m);
            } else {
                ReferenceKernels.softmax(x, 1, values.length, m);
            }
            for (int i = 0; i < expected.length; i++) {
                float got = TestData.get(x, i);
                if (Float.isNaN(expected[i])) {
                    assertTrue(Float.isNaN(got), (vector ? "vector" : "scalar") + " index " + i + " = " + got);
                } else {
                    assertEquals(expected[i], got, 1e-7f, (vector ? "vector" : "scalar") + " index " + i);
                }
            }
        }
    }

    @Test
    void specialValuesAlsoInTheVectorBody() {
        // 20 masked entries: the vector loop and its tail both see float32's minimum.
        try (Arena arena = Arena.ofConfined()) {
            int cols = 20;
            MemorySegment x = TestData.uniform(arena, new Random(1), cols, -5, 5);
            float[] mask = new float[cols];
            java.util.Arrays.fill(mask, MASKED);
            MemorySegment m = TestData.of(arena, mask);
            Softmax.rows(x, 1, cols, m);
            for (int i = 0; i < cols; i++) {
                assertEquals(1f / cols, TestData.get(x, i), 1e-7f);
            }
        }
    }

    @Test
    void specialValuesInEveryLaneOfTheVectorLoopsMatchTheScalarTwin() {
        // The vector maximum is a compare and a blend, which skips NaN: the row must still come out all NaN.
        float inf = Float.POSITIVE_INFINITY;
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {16, 17, 33, 53, 64, 100}) {
                for (int at = 0; at < cols; at += 7) {
                    float[][] rows = {
                            withAt(cols, at, Float.NaN, 0.5f),
                            withAt(cols, at, inf, 0.5f),
                            withAt(cols, at, -inf, 0.5f),
                            withAt(cols, at, -0f, 0f),
                            withAt(cols, at, 0f, -0f),
                            withAt(cols, at, 1e30f, -1e30f),
                            withAt(cols, at, -inf, -inf),
                    };
                    for (float[] row : rows) {
                        for (boolean masked : new boolean[] {false, true}) {
                            MemorySegment vector = TestData.of(arena, row);
                            MemorySegment scalar = TestData.of(arena, row);
                            MemorySegment mask = masked ? TestData.of(arena, new float[cols]) : null;
                            Softmax.rows(vector, 1, cols, mask);
                            ReferenceKernels.softmax(scalar, 1, cols, mask);
                            for (int i = 0; i < cols; i++) {
                                float want = TestData.get(scalar, i), got = TestData.get(vector, i);
                                String where = "cols " + cols + " special at " + at + " (" + row[at] + ") masked "
                                        + masked + " index " + i;
                                if (Float.isNaN(want)) {
                                    assertTrue(Float.isNaN(got), where + ": " + got + ", want NaN");
                                } else {
                                    assertEquals(want, got, 2e-6f * want + 1e-9f, where);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** A row of {@code cols} entries equal to {@code rest} but for {@code value} at index {@code at}. */
    private static float[] withAt(int cols, int at, float value, float rest) {
        float[] row = new float[cols];
        java.util.Arrays.fill(row, rest);
        row[at] = value;
        return row;
    }
}
