package bertj.kernels;

import static bertj.kernels.TestData.F;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The packing of x for the Linear's micro-kernel ({@link Linear#interleaveRows} and its permute form
 * {@link Linear#interleave8}), bit for bit against a plain transpose of each tile, at odd sizes: every
 * k tail around the 16 k of one permute round, rows at a stride wider than k, partial last tiles.
 */
class InterleaveTest {
    private static final int[] K_LENS = {1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 100, 383};

    /** The plain transpose: tile t, k, row r at {@code base + t * kLen + k * tileRows + r}; missing rows zero. */
    private static float[] plain(MemorySegment x, long first, long rowStride, int rows, int kLen, int tileRows,
            int base, int length) {
        float[] block = new float[length];
        Arrays.fill(block, Float.NaN);
        int tiles = (rows + tileRows - 1) / tileRows;
        for (int t = 0; t < tiles; t++) {
            for (int k = 0; k < kLen; k++) {
                for (int r = 0; r < tileRows; r++) {
                    int row = t * tileRows + r;
                    block[base + t * tileRows * kLen + k * tileRows + r] =
                            row < rows ? x.getAtIndex(F, first + row * rowStride + k) : 0f;
                }
            }
        }
        return block;
    }

    @Test
    void interleaveRowsIsAPlainTransposeOfEachTile() {
        Random random = new Random(21);
        try (Arena arena = Arena.ofConfined()) {
            for (int tileRows : new int[] {4, Tuning.TILE_ROWS}) {
                for (int kLen : K_LENS) {
                    for (int rows : new int[] {1, 3, tileRows - 1, tileRows, tileRows + 1, 3 * tileRows + 2}) {
                        long rowStride = kLen + 5;
                        long first = 3;
                        MemorySegment x = TestData.uniform(arena, random, first + rows * rowStride, -1, 1);
                        int base = 7;
                        int length = base + (rows + tileRows - 1) / tileRows * tileRows * kLen + 3;
                        float[] got = new float[length];
                        Arrays.fill(got, Float.NaN); // untouched entries stay NaN, as in the expected block
                        Linear.interleaveRows(x, first, rowStride, rows, kLen, tileRows, got, base,
                                new float[Tuning.TILE_ROWS * kLen]);
                        float[] want = plain(x, first, rowStride, rows, kLen, tileRows, base, length);
                        assertBitsEqual(want, got, "tileRows=" + tileRows + " kLen=" + kLen + " rows=" + rows);
                    }
                }
            }
        }
    }

    @Test
    void interleave8IsAPlainTransposeOfEightRows() {
        assumeTrue(VectorSupport.floatLanes() == 16, "interleave8's permutes are for 16-float vectors");
        Random random = new Random(8);
        try (Arena arena = Arena.ofConfined()) {
            for (int kLen : K_LENS) {
                long rowStride = kLen + 3;
                long first = 1;
                MemorySegment x = TestData.uniform(arena, random, first + 8 * rowStride, -1, 1);
                int base = 5;
                int length = base + 8 * kLen + 2;
                float[] got = new float[length];
                Arrays.fill(got, Float.NaN);
                Linear.interleave8(x, first, rowStride, kLen, got, base);
                assertBitsEqual(plain(x, first, rowStride, 8, kLen, 8, base, length), got, "kLen=" + kLen);
            }
        }
    }

    private static void assertBitsEqual(float[] want, float[] got, String where) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    where + ": block[" + i + "] = " + got[i] + ", expected " + want[i]);
        }
    }
}
