package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * LayerNorm against its scalar twin (statistics in double). Tolerance {@code 2e-5 (1 + |expected|)} plus
 * {@code |gamma| 4 ulp(max |x|) / std}: the float mean is off by about an ulp of the row's largest value,
 * and x - mean carries that error divided by the row's standard deviation (large when a short row's
 * values are close together).
 */
class NormsTest {
    private static final int[] COLS = {1, 2, 3, 7, 8, 9, 17, 31, 33, 384, 767, 768, 769};

    @Test
    void layerNormMatchesTheScalarTwin() {
        Random random = new Random(11);
        for (int cols : COLS) {
            try (Arena arena = Arena.ofShared()) {
                int rows = 6;
                // An offset row mean (as hidden states have) tests that the variance is taken about the mean.
                MemorySegment x = TestData.uniform(arena, random, (long) rows * cols, 3, 5);
                MemorySegment gamma = TestData.uniform(arena, random, cols, -2, 2);
                MemorySegment beta = TestData.uniform(arena, random, cols, -2, 2);
                MemorySegment out = TestData.zeros(arena, (long) rows * cols);
                MemorySegment expected = TestData.zeros(arena, (long) rows * cols);
                Norms.layerNorm(x, rows, cols, gamma, beta, 1e-12f, out);
                ReferenceKernels.layerNorm(x, rows, cols, gamma, beta, 1e-12f, expected);
                compare(x, null, gamma, 1e-12f, expected, out, rows, cols, "layerNorm cols " + cols);
            }
        }
    }

    @Test
    void addLayerNormWithEveryAliasing() {
        Random random = new Random(12);
        try (ThreadPool pool = new ThreadPool(2)) {
            for (int cols : COLS) {
                for (String alias : new String[] {"none", "x", "residual"}) {
                    try (Arena arena = Arena.ofShared()) {
                        int rows = 37;
                        MemorySegment x = TestData.uniform(arena, random, (long) rows * cols, -3, 3);
                        MemorySegment residual = TestData.uniform(arena, random, (long) rows * cols, -3, 3);
                        MemorySegment gamma = TestData.uniform(arena, random, cols, -2, 2);
                        MemorySegment beta = TestData.uniform(arena, random, cols, -2, 2);
                        MemorySegment expected = TestData.zeros(arena, (long) rows * cols);
                        ReferenceKernels.addLayerNorm(x, residual, rows, cols, gamma, beta, 1e-5f, expected);
                        MemorySegment inputX = TestData.copy(arena, x);
                        MemorySegment inputResidual = TestData.copy(arena, residual);
                        MemorySegment out = switch (alias) {
                            case "x" -> x;
                            case "residual" -> residual;
                            default -> TestData.zeros(arena, (long) rows * cols);
                        };
                        Norms.addLayerNorm(pool, x, residual, rows, cols, gamma, beta, 1e-5f, out);
                        compare(inputX, inputResidual, gamma, 1e-5f, expected, out, rows, cols,
                                "addLayerNorm cols " + cols + " out = " + alias);
                    }
                }
            }
        }
    }

    @Test
    void constantRowGivesBeta() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = TestData.of(arena, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f, 5f);
            MemorySegment gamma = TestData.of(arena, 2f, 2f, 2f, 2f, 2f, 2f, 2f, 2f, 2f);
            MemorySegment beta = TestData.of(arena, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f);
            Norms.layerNorm(x, 1, 9, gamma, beta, 1e-12f, x);
            for (int i = 0; i < 9; i++) {
                assertEquals(i + 1f, TestData.get(x, i), 0f);
            }
        }
    }

    private static void compare(MemorySegment x, MemorySegment residual, MemorySegment gamma, float eps,
            MemorySegment expected, MemorySegment actual, int rows, int cols, String what) {
        for (int r = 0; r < rows; r++) {
            double maxAbs = 0;
            double sum = 0;
            double[] s = new double[cols];
            for (int c = 0; c < cols; c++) {
                long at = (long) r * cols + c;
                s[c] = TestData.get(x, at) + (residual == null ? 0 : TestData.get(residual, at));
                maxAbs = Math.max(maxAbs, Math.abs(s[c]));
                sum += s[c];
            }
            double squares = 0;
            for (int c = 0; c < cols; c++) {
                squares += (s[c] - sum / cols) * (s[c] - sum / cols);
            }
            double std = Math.sqrt(squares / cols + eps);
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                float want = TestData.get(expected, i);
                float got = TestData.get(actual, i);
                double tolerance = 2e-5 * (1 + Math.abs(want))
                        + Math.abs(TestData.get(gamma, c)) * 4 * Math.ulp((float) maxAbs) / std;
                if (!(Math.abs(want - got) <= tolerance)) {
                    fail(what + " row " + r + " col " + c + ": " + got + " vs " + want + " +- " + tolerance);
                }
            }
        }
    }
}
