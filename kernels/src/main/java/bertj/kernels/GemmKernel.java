package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The register-blocked micro-kernel shared by {@link Linear} and {@link Attention}:
 * {@code y[rows, cols] = init + xPacked[kLen][rows] . wPanel[kLen][WIDTH]}, with {@code rows <= ROWS} and
 * {@code cols <= WIDTH}.
 *
 * <p>Both operands are heap arrays in the order the loop reads them: the {@code x} block interleaved
 * {@code [k][rows]} (one broadcast per row and k) and the weight panel {@code [k][WIDTH]} (two vector loads
 * per k). Their indices are linear in {@code k}, so C2 removes every bounds check from the loop; the same
 * loop reading a {@code MemorySegment} keeps a check per load and ran at about 60% of the speed (measured
 * on AVX2, 4 x 2 tile, K = 768). The tile is 4 rows x 2 vectors: 8 accumulators, 2 weight vectors and the
 * broadcasts fit in AVX2's 16 registers; larger tiles made C2 spill accumulators to the stack.
 *
 * <p>The four tile methods differ only in their row count. They are unrolled by hand because C2 keeps
 * only straight-line locals in registers.
 */
final class GemmKernel {
    /** Rows of x per tile. */
    static final int ROWS = 4;
    /** Columns of y per tile: the width of a packed weight panel. */
    static final int WIDTH = 2 * LANES;

    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private GemmKernel() {}

    /**
     * Computes one tile. The accumulators start from y itself when {@code accumulate} (a later block of
     * k), else from {@code bias[biasBase ..]} or zero when {@code bias} is null. Columns at and beyond
     * {@code cols} are neither read nor written.
     *
     * @param xp     x block, {@code xp[xBase + k * rows + r]} is row r at k
     * @param w      weight panel, {@code w[wBase + k * WIDTH + c]} is column c at k
     * @param yOff   byte offset of the tile's first element in {@code y}
     * @param yStride bytes between rows of y
     */
    static void tile(int rows, float[] xp, int xBase, float[] w, int wBase, int kLen, float[] bias, int biasBase,
            boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        switch (rows) {
            case 4 -> tile4(xp, xBase, w, wBase, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 3 -> tile3(xp, xBase, w, wBase, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 2 -> tile2(xp, xBase, w, wBase, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 1 -> tile1(xp, xBase, w, wBase, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            default -> throw new IllegalArgumentException("tile rows must be 1.." + ROWS + ", got " + rows);
        }
    }

    /**
     * {@link #tile} reading the weight panel straight from the packed segment (at byte offset {@code wOff},
     * {@code [kLen][WIDTH]}), and also storing it to {@code copy[0 .. kLen * WIDTH)} unless {@code copy} is
     * null. Used for the first tile of a slice: its loads stream from memory interleaved with the
     * arithmetic, so the two overlap, and the following tiles read the copy (bounds checks on segment loads
     * make this loop slower when the data is already in cache).
     */
    static void streamTile(int rows, float[] xp, int xBase, MemorySegment w, long wOff, float[] copy, int kLen,
            float[] bias, int biasBase, boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        switch (rows) {
            case 4 -> streamTile4(xp, xBase, w, wOff, copy, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 3 -> streamTile3(xp, xBase, w, wOff, copy, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 2 -> streamTile2(xp, xBase, w, wOff, copy, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            case 1 -> streamTile1(xp, xBase, w, wOff, copy, kLen, bias, biasBase, accumulate, y, yOff, yStride, cols);
            default -> throw new IllegalArgumentException("tile rows must be 1.." + ROWS + ", got " + rows);
        }
    }

    private static FloatVector init(boolean accumulate, MemorySegment y, long rowOff, int lane0, int cols,
            float[] bias, int biasBase) {
        if (accumulate) {
            if (lane0 + LANES <= cols) {
                return FloatVector.fromMemorySegment(FLOATS, y, rowOff + 4L * lane0, ORDER);
            }
            if (lane0 >= cols) {
                return FloatVector.zero(FLOATS);
            }
            return FloatVector.fromMemorySegment(FLOATS, y, rowOff + 4L * lane0, ORDER,
                    FLOATS.indexInRange(lane0, cols));
        }
        return bias == null ? FloatVector.zero(FLOATS) : FloatVector.fromArray(FLOATS, bias, biasBase + lane0);
    }

    private static void store(FloatVector v, MemorySegment y, long rowOff, int lane0, int cols) {
        if (lane0 + LANES <= cols) {
            v.intoMemorySegment(y, rowOff + 4L * lane0, ORDER);
        } else if (lane0 < cols) {
            v.intoMemorySegment(y, rowOff + 4L * lane0, ORDER, FLOATS.indexInRange(lane0, cols));
        }
    }

    private static void tile4(float[] xp, int xBase, float[] w, int wBase, int kLen, float[] bias, int biasBase,
            boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        long y2 = yOff + 2 * yStride;
        long y3 = yOff + 3 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        FloatVector c20 = init(accumulate, y, y2, 0, cols, bias, biasBase);
        FloatVector c21 = init(accumulate, y, y2, LANES, cols, bias, biasBase);
        FloatVector c30 = init(accumulate, y, y3, 0, cols, bias, biasBase);
        FloatVector c31 = init(accumulate, y, y3, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * WIDTH;
            FloatVector b0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector b1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            int xk = xBase + k * 4;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(FLOATS, xp[xk + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
        store(c20, y, y2, 0, cols);
        store(c21, y, y2, LANES, cols);
        store(c30, y, y3, 0, cols);
        store(c31, y, y3, LANES, cols);
    }

    private static void tile3(float[] xp, int xBase, float[] w, int wBase, int kLen, float[] bias, int biasBase,
            boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        long y2 = yOff + 2 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        FloatVector c20 = init(accumulate, y, y2, 0, cols, bias, biasBase);
        FloatVector c21 = init(accumulate, y, y2, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * WIDTH;
            FloatVector b0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector b1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            int xk = xBase + k * 3;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
        store(c20, y, y2, 0, cols);
        store(c21, y, y2, LANES, cols);
    }

    private static void tile2(float[] xp, int xBase, float[] w, int wBase, int kLen, float[] bias, int biasBase,
            boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * WIDTH;
            FloatVector b0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector b1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            int xk = xBase + k * 2;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
    }

    private static void tile1(float[] xp, int xBase, float[] w, int wBase, int kLen, float[] bias, int biasBase,
            boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * WIDTH;
            FloatVector b0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector b1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            int xk = xBase + k * 1;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
    }

    private static void streamTile4(float[] xp, int xBase, MemorySegment w, long wOff, float[] copy, int kLen,
            float[] bias, int biasBase, boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        long y2 = yOff + 2 * yStride;
        long y3 = yOff + 3 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        FloatVector c20 = init(accumulate, y, y2, 0, cols, bias, biasBase);
        FloatVector c21 = init(accumulate, y, y2, LANES, cols, bias, biasBase);
        FloatVector c30 = init(accumulate, y, y3, 0, cols, bias, biasBase);
        FloatVector c31 = init(accumulate, y, y3, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * k * WIDTH;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            if (copy != null) {
                b0.intoArray(copy, k * WIDTH);
                b1.intoArray(copy, k * WIDTH + LANES);
            }
            int xk = xBase + k * 4;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(FLOATS, xp[xk + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
        store(c20, y, y2, 0, cols);
        store(c21, y, y2, LANES, cols);
        store(c30, y, y3, 0, cols);
        store(c31, y, y3, LANES, cols);
    }

    private static void streamTile3(float[] xp, int xBase, MemorySegment w, long wOff, float[] copy, int kLen,
            float[] bias, int biasBase, boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        long y2 = yOff + 2 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        FloatVector c20 = init(accumulate, y, y2, 0, cols, bias, biasBase);
        FloatVector c21 = init(accumulate, y, y2, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * k * WIDTH;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            if (copy != null) {
                b0.intoArray(copy, k * WIDTH);
                b1.intoArray(copy, k * WIDTH + LANES);
            }
            int xk = xBase + k * 3;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
        store(c20, y, y2, 0, cols);
        store(c21, y, y2, LANES, cols);
    }

    private static void streamTile2(float[] xp, int xBase, MemorySegment w, long wOff, float[] copy, int kLen,
            float[] bias, int biasBase, boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        long y1 = yOff + 1 * yStride;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        FloatVector c10 = init(accumulate, y, y1, 0, cols, bias, biasBase);
        FloatVector c11 = init(accumulate, y, y1, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * k * WIDTH;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            if (copy != null) {
                b0.intoArray(copy, k * WIDTH);
                b1.intoArray(copy, k * WIDTH + LANES);
            }
            int xk = xBase + k * 2;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
        store(c10, y, y1, 0, cols);
        store(c11, y, y1, LANES, cols);
    }

    private static void streamTile1(float[] xp, int xBase, MemorySegment w, long wOff, float[] copy, int kLen,
            float[] bias, int biasBase, boolean accumulate, MemorySegment y, long yOff, long yStride, int cols) {
        long y0 = yOff;
        FloatVector c00 = init(accumulate, y, y0, 0, cols, bias, biasBase);
        FloatVector c01 = init(accumulate, y, y0, LANES, cols, bias, biasBase);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * k * WIDTH;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            if (copy != null) {
                b0.intoArray(copy, k * WIDTH);
                b1.intoArray(copy, k * WIDTH + LANES);
            }
            int xk = xBase + k * 1;
            FloatVector a = FloatVector.broadcast(FLOATS, xp[xk]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
        }
        store(c00, y, y0, 0, cols);
        store(c01, y, y0, LANES, cols);
    }

}
