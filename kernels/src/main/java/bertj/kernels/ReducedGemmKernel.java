package bertj.kernels;

import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GemmKernel}'s tiles on weights stored in bfloat16 or int8 ({@link PackedLinear}'s layouts), widened
 * to float32 in registers, k by k, right before their FMAs: the floats {@link bertj.kernels.reference.WeightRounding}
 * defines (those {@link WeightWidening} gives int8 weights too), so the same bits as the float32 tile on widened
 * weights. Widening in the loop keeps the weights' loads spread
 * over the FMAs: a separate widening pass per slice read the slice in a burst, then computed with the memory
 * idle, and the bf16 Linear at 8 rows ran slower than the float32 one. bf16 takes these tiles at every size;
 * int8, whose widening costs more per k, for up to {@link Tuning#INT8_IN_TILES_MAX_ROWS} rows (beyond, the
 * Linear widens each slice once, {@link WeightWidening}, and runs the float32 tiles).
 *
 * <p>Per k, bfloat16 costs one load, a shift and a mask for 2 x rows FMAs; int8 per two k one load and, per
 * vector of weights, two shifts, a conversion and the scale's multiply.
 */
final class ReducedGemmKernel {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The packed layouts are little-endian (the low half of an int is the lower column). */
    private static final ByteOrder LAYOUT_ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);
    private static final int HIGH_HALF = 0xFFFF0000;

    private ReducedGemmKernel() {}

    /** {@link GemmKernel#tile} on bfloat16 weights: the panel's k-slice {@code [kLen][PANEL_WIDTH]} at byte {@code wOff}. */
    static void tileBf16(int rows, float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c,
            long cOff, long cStride) {
        if (rows == 8) {
            tile8Bf16(xp, xBase, w, wOff, kLen, c, cOff, cStride);
        } else {
            tile4Bf16(xp, xBase, w, wOff, kLen, c, cOff, cStride);
        }
    }

    /**
     * {@link GemmKernel#tile} on int8 weights, the panel's columns scaled by {@code scales[scaleFrom ..
     * scaleFrom + PANEL_WIDTH)}; kLen must be even (a pair of rows per iteration: one iteration per row, which
     * reloaded the pair's vector for the odd row, ran 20-30% slower).
     */
    static void tileInt8(int rows, float[] xp, int xBase, MemorySegment w, long wOff, int kLen, float[] scales,
            int scaleFrom, MemorySegment c, long cOff, long cStride) {
        if (rows == 8) {
            tile8Int8(xp, xBase, w, wOff, kLen, scales, scaleFrom, c, cOff, cStride);
        } else {
            tile4Int8(xp, xBase, w, wOff, kLen, scales, scaleFrom, c, cOff, cStride);
        }
    }

    private static void tile8Bf16(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c, long cOff,
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
            IntVector bits = IntVector.fromMemorySegment(INTS, w, wOff + 2L * PANEL_WIDTH * k, LAYOUT_ORDER);
            FloatVector b0 = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b1 = bits.and(HIGH_HALF).reinterpretAsFloats();
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

    private static void tile4Bf16(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, MemorySegment c, long cOff,
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
            IntVector bits = IntVector.fromMemorySegment(INTS, w, wOff + 2L * PANEL_WIDTH * k, LAYOUT_ORDER);
            FloatVector b0 = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b1 = bits.and(HIGH_HALF).reinterpretAsFloats();
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

    private static void tile8Int8(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, float[] scales,
            int scaleFrom, MemorySegment c, long cOff, long cStride) {
        FloatVector scaleLo = FloatVector.fromArray(FLOATS, scales, scaleFrom);
        FloatVector scaleHi = FloatVector.fromArray(FLOATS, scales, scaleFrom + LANES);
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
        for (int k = 0; k < kLen; k += 2) {
            IntVector bytes = IntVector.fromMemorySegment(INTS, w, wOff + (long) PANEL_WIDTH * k, LAYOUT_ORDER);
            FloatVector b0 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleLo);
            FloatVector b1 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleHi);
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
            b0 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleLo);
            b1 = ((FloatVector) bytes.lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleHi);
            xk += 8;
            x = FloatVector.broadcast(FLOATS, xp[xk + 0]);
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

    private static void tile4Int8(float[] xp, int xBase, MemorySegment w, long wOff, int kLen, float[] scales,
            int scaleFrom, MemorySegment c, long cOff, long cStride) {
        FloatVector scaleLo = FloatVector.fromArray(FLOATS, scales, scaleFrom);
        FloatVector scaleHi = FloatVector.fromArray(FLOATS, scales, scaleFrom + LANES);
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
        for (int k = 0; k < kLen; k += 2) {
            IntVector bytes = IntVector.fromMemorySegment(INTS, w, wOff + (long) PANEL_WIDTH * k, LAYOUT_ORDER);
            FloatVector b0 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleLo);
            FloatVector b1 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleHi);
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
            b0 = ((FloatVector) bytes.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleLo);
            b1 = ((FloatVector) bytes.lanewise(VectorOperators.ASHR, 24)
                    .convert(VectorOperators.I2F, 0)).mul(scaleHi);
            xk += 4;
            x = FloatVector.broadcast(FLOATS, xp[xk + 0]);
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
