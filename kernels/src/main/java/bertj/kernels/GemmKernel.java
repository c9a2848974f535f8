package bertj.kernels;

import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The register-blocked micro-kernel of {@link Linear}: {@code c[rows, PANEL_WIDTH] += xPacked[kLen][rows] .
 * wPanel[kLen][PANEL_WIDTH]}, rows = {@link Tuning#TILE_ROWS} (or 4) ({@link Tuning}).
 *
 * <p>The tile is TILE_ROWS rows x 2 vectors. With AVX-512 (16 floats, 32 registers) it is 8 rows: 16
 * accumulators hide the FMA latency and each pair of weight loads feeds 16 FMAs (8 x 2 measured 205-220
 * GFLOP/s on Zen 5 with operands in cache, 4 x 2 195). With narrower vectors there are 16 registers and
 * 8 x 2 spills, so the tile is 4 rows (4 x 2 reached 85-89 GFLOP/s on AVX2, larger tiles 31-41).
 *
 * <p>x is a heap array interleaved {@code [k][rows]} (one broadcast per row and k); the weight panel
 * {@code [k][PANEL_WIDTH]} is read from the packed segment in place (two vector loads per k). The tile has no
 * branches and no masks: the caller gives it whole tiles only (partial ones go through a scratch tile), so
 * that C2 compiles it the same way whatever it has seen, and small enough to inline everything (with the
 * bias, masks and tails inside, C2 hit its node limit, left the stores as calls and boxed the vectors).
 * The tile methods are unrolled by hand because C2 keeps only straight-line locals in registers.
 *
 * <p>Attention has its own tile of the same shape ({@code Attention.tile}), not this one. Sharing one would
 * change no bit (both are one FMA chain per output over k in order), but the two read different memory: here
 * c and the weights are native segments and x is interleaved {@code [k][rows]}; there everything is a heap
 * array and x (Q, or the exponentials) is read row-major in place, the accumulators start at zero and are
 * scaled on the way out. One kernel would have to copy attention's rows into the interleaved layout, or see
 * heap and native segments at the same call site (C2 then compiles both paths; a mixed-segment site made
 * the Linear 30-40% slower, BENCHMARKS.md "Reading the weights"), and neither was measured to be free.
 */
final class GemmKernel {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private GemmKernel() {}

    /**
     * Adds one tile of products to {@code c}: {@code rows} = TILE_ROWS, or 4 (the Linear's tile for up to 4 rows
     * of x).
     *
     * @param xp      x block, {@code xp[xBase + k * rows + r]} is row r at k
     * @param w       packed weights, the panel's k-slice {@code [kLen][PANEL_WIDTH]} at byte offset {@code wOff}
     * @param c       the rows x PANEL_WIDTH tile at byte offset {@code cOff}, rows {@code cStride} bytes apart
     */
    static void tile(int rows, float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c,
            long cOff, long cStride) {
        if (rows == 8) {
            tile8(xp, xBase, w, wOff, kLen, c, cOff, cStride);
        } else {
            tile4(xp, xBase, w, wOff, kLen, c, cOff, cStride);
        }
    }

    private static void tile8(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c, long cOff,
            long cStride) {
        long c0 = cOff + 0 * cStride;
        long c1 = cOff + 1 * cStride;
        long c2 = cOff + 2 * cStride;
        long c3 = cOff + 3 * cStride;
        long c4 = cOff + 4 * cStride;
        long c5 = cOff + 5 * cStride;
        long c6 = cOff + 6 * cStride;
        long c7 = cOff + 7 * cStride;
        FloatVector a00 = FloatVector.fromMemorySegment(FLOATS, c, c0, ORDER);
        FloatVector a01 = FloatVector.fromMemorySegment(FLOATS, c, c0 + 4L * LANES, ORDER);
        FloatVector a10 = FloatVector.fromMemorySegment(FLOATS, c, c1, ORDER);
        FloatVector a11 = FloatVector.fromMemorySegment(FLOATS, c, c1 + 4L * LANES, ORDER);
        FloatVector a20 = FloatVector.fromMemorySegment(FLOATS, c, c2, ORDER);
        FloatVector a21 = FloatVector.fromMemorySegment(FLOATS, c, c2 + 4L * LANES, ORDER);
        FloatVector a30 = FloatVector.fromMemorySegment(FLOATS, c, c3, ORDER);
        FloatVector a31 = FloatVector.fromMemorySegment(FLOATS, c, c3 + 4L * LANES, ORDER);
        FloatVector a40 = FloatVector.fromMemorySegment(FLOATS, c, c4, ORDER);
        FloatVector a41 = FloatVector.fromMemorySegment(FLOATS, c, c4 + 4L * LANES, ORDER);
        FloatVector a50 = FloatVector.fromMemorySegment(FLOATS, c, c5, ORDER);
        FloatVector a51 = FloatVector.fromMemorySegment(FLOATS, c, c5 + 4L * LANES, ORDER);
        FloatVector a60 = FloatVector.fromMemorySegment(FLOATS, c, c6, ORDER);
        FloatVector a61 = FloatVector.fromMemorySegment(FLOATS, c, c6 + 4L * LANES, ORDER);
        FloatVector a70 = FloatVector.fromMemorySegment(FLOATS, c, c7, ORDER);
        FloatVector a71 = FloatVector.fromMemorySegment(FLOATS, c, c7 + 4L * LANES, ORDER);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * PANEL_WIDTH * k;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            int xk = xBase + k * 8;
            FloatVector x = FloatVector.broadcast(FLOATS, xp[xk + 0]);
            a00 = x.fma(b0, a00);
            a01 = x.fma(b1, a01);
            x = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            a10 = x.fma(b0, a10);
            a11 = x.fma(b1, a11);
            x = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            a20 = x.fma(b0, a20);
            a21 = x.fma(b1, a21);
            x = FloatVector.broadcast(FLOATS, xp[xk + 3]);
            a30 = x.fma(b0, a30);
            a31 = x.fma(b1, a31);
            x = FloatVector.broadcast(FLOATS, xp[xk + 4]);
            a40 = x.fma(b0, a40);
            a41 = x.fma(b1, a41);
            x = FloatVector.broadcast(FLOATS, xp[xk + 5]);
            a50 = x.fma(b0, a50);
            a51 = x.fma(b1, a51);
            x = FloatVector.broadcast(FLOATS, xp[xk + 6]);
            a60 = x.fma(b0, a60);
            a61 = x.fma(b1, a61);
            x = FloatVector.broadcast(FLOATS, xp[xk + 7]);
            a70 = x.fma(b0, a70);
            a71 = x.fma(b1, a71);
        }
        a00.intoMemorySegment(c, c0, ORDER);
        a01.intoMemorySegment(c, c0 + 4L * LANES, ORDER);
        a10.intoMemorySegment(c, c1, ORDER);
        a11.intoMemorySegment(c, c1 + 4L * LANES, ORDER);
        a20.intoMemorySegment(c, c2, ORDER);
        a21.intoMemorySegment(c, c2 + 4L * LANES, ORDER);
        a30.intoMemorySegment(c, c3, ORDER);
        a31.intoMemorySegment(c, c3 + 4L * LANES, ORDER);
        a40.intoMemorySegment(c, c4, ORDER);
        a41.intoMemorySegment(c, c4 + 4L * LANES, ORDER);
        a50.intoMemorySegment(c, c5, ORDER);
        a51.intoMemorySegment(c, c5 + 4L * LANES, ORDER);
        a60.intoMemorySegment(c, c6, ORDER);
        a61.intoMemorySegment(c, c6 + 4L * LANES, ORDER);
        a70.intoMemorySegment(c, c7, ORDER);
        a71.intoMemorySegment(c, c7 + 4L * LANES, ORDER);
    }

    private static void tile4(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c, long cOff,
            long cStride) {
        long c0 = cOff + 0 * cStride;
        long c1 = cOff + 1 * cStride;
        long c2 = cOff + 2 * cStride;
        long c3 = cOff + 3 * cStride;
        FloatVector a00 = FloatVector.fromMemorySegment(FLOATS, c, c0, ORDER);
        FloatVector a01 = FloatVector.fromMemorySegment(FLOATS, c, c0 + 4L * LANES, ORDER);
        FloatVector a10 = FloatVector.fromMemorySegment(FLOATS, c, c1, ORDER);
        FloatVector a11 = FloatVector.fromMemorySegment(FLOATS, c, c1 + 4L * LANES, ORDER);
        FloatVector a20 = FloatVector.fromMemorySegment(FLOATS, c, c2, ORDER);
        FloatVector a21 = FloatVector.fromMemorySegment(FLOATS, c, c2 + 4L * LANES, ORDER);
        FloatVector a30 = FloatVector.fromMemorySegment(FLOATS, c, c3, ORDER);
        FloatVector a31 = FloatVector.fromMemorySegment(FLOATS, c, c3 + 4L * LANES, ORDER);
        for (int k = 0; k < kLen; k++) {
            long wk = wOff + 4L * PANEL_WIDTH * k;
            FloatVector b0 = FloatVector.fromMemorySegment(FLOATS, w, wk, ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(FLOATS, w, wk + 4L * LANES, ORDER);
            int xk = xBase + k * 4;
            FloatVector x = FloatVector.broadcast(FLOATS, xp[xk + 0]);
            a00 = x.fma(b0, a00);
            a01 = x.fma(b1, a01);
            x = FloatVector.broadcast(FLOATS, xp[xk + 1]);
            a10 = x.fma(b0, a10);
            a11 = x.fma(b1, a11);
            x = FloatVector.broadcast(FLOATS, xp[xk + 2]);
            a20 = x.fma(b0, a20);
            a21 = x.fma(b1, a21);
            x = FloatVector.broadcast(FLOATS, xp[xk + 3]);
            a30 = x.fma(b0, a30);
            a31 = x.fma(b1, a31);
        }
        a00.intoMemorySegment(c, c0, ORDER);
        a01.intoMemorySegment(c, c0 + 4L * LANES, ORDER);
        a10.intoMemorySegment(c, c1, ORDER);
        a11.intoMemorySegment(c, c1 + 4L * LANES, ORDER);
        a20.intoMemorySegment(c, c2, ORDER);
        a21.intoMemorySegment(c, c2 + 4L * LANES, ORDER);
        a30.intoMemorySegment(c, c3, ORDER);
        a31.intoMemorySegment(c, c3 + 4L * LANES, ORDER);
    }
}
