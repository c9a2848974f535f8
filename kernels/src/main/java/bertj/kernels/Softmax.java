package bertj.kernels;

import static bertj.kernels.VectorMath.EXP_C2;
import static bertj.kernels.VectorMath.EXP_C3;
import static bertj.kernels.VectorMath.EXP_C4;
import static bertj.kernels.VectorMath.EXP_C5;
import static bertj.kernels.VectorMath.EXP_C6;
import static bertj.kernels.VectorMath.LN2_HI;
import static bertj.kernels.VectorMath.LN2_LO;
import static bertj.kernels.VectorMath.LOG2E;
import static bertj.kernels.VectorMath.NON_POSITIVE_MIN_ARG;
import static bertj.kernels.VectorMath.ROUNDING_MAGIC;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.Checks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Row-wise softmax with an optional additive mask, as {@code torch.softmax(x + mask, dim=-1)}.
 *
 * <p>Max subtraction keeps it stable for any magnitude. Special rows behave as in PyTorch: a row masked
 * everywhere with float32's minimum becomes uniform (all its entries are equal), a row of -inf becomes NaN,
 * NaN anywhere in a row makes the row NaN. The reference twin, the exponentials and their sum in double, is
 * {@link bertj.kernels.reference.ReferenceKernels#softmax}.
 */
public final class Softmax {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Softmax() {}

    /**
     * In place: {@code x[r, :] = softmax(x[r, :] + mask)}.
     *
     * @param x    {@code [rows, cols]} F32
     * @param mask {@code [cols]} F32 added to every row before the softmax, or null
     */
    public static void rows(MemorySegment x, int rows, int cols, MemorySegment mask) {
        Checks.softmax(x, rows, cols, mask);
        for (int r = 0; r < rows; r++) {
            row(x, 4L * r * cols, cols, mask, 0, 1f);
        }
    }

    /** Per-thread copy of a row: the vector code runs on heap arrays, where loads need no bounds check per access. */
    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[LANES]});

    /**
     * Softmax of one row in place: {@code x = softmax(scale * x + mask)}, at byte offsets {@code xOff} and
     * {@code maskOff}; {@code mask} may be null. Runs {@link #exponentials} and {@link #scale} on a heap copy
     * of the row.
     */
    static void row(MemorySegment x, long xOff, int cols, MemorySegment mask, long maskOff, float scale) {
        float[][] buffers = ROW.get();
        if (buffers[0].length < cols) {
            buffers[0] = new float[cols];
            buffers[1] = new float[cols];
        }
        float[] values = buffers[0];
        float[] maskValues = mask == null ? null : buffers[1];
        MemorySegment.copy(x, FLOAT, xOff, values, 0, cols);
        if (mask != null) {
            MemorySegment.copy(mask, FLOAT, maskOff, maskValues, 0, cols);
        }
        float total = exponentials(values, 0, cols, maskValues, 0, scale, buffers[2]);
        scale(values, 0, cols, 1f / total);
        MemorySegment.copy(values, 0, x, FLOAT, xOff, cols);
    }

    /**
     * The unnormalised softmax of one row, in place: {@code x = e^(v - max v)} with {@code v = scale * x + mask}
     * ({@code x[xOff ..]}, {@code mask[maskOff ..]} or null), returning the sum of the exponentials; a softmax
     * divides by it ({@link #scale}), attention folds that into its output. The exponential is written out
     * in the loop (see VectorMath on why); the last {@code cols % LANES} entries take the scalar path, in
     * float as the vector one, with e^x from Math.exp. {@code lanes} is scratch for one vector.
     */
    static float exponentials(float[] x, int xOff, int cols, float[] mask, int maskOff, float scale, float[] lanes) {
        int bound = FLOATS.loopBound(cols);
        // Pass 1: scale, add the mask, store back, track the maximum. With neither (attention scales in its
        // product, and drops a mask of zeros) only the maximum. The maximum is a compare and a blend, in two
        // chains: Java's max (NaN and signed zeros) is a long dependent sequence on x86, and it made this pass
        // as slow as the exponentials. A NaN is skipped here, but its e^x makes the sum NaN and so every output
        // NaN, as in PyTorch; -0 and +0 as the maximum give the same differences' exponentials.
        FloatVector max = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        if (mask == null && scale == 1f) {
            FloatVector max2 = max;
            int c = 0;
            for (; c + LANES < bound; c += 2 * LANES) {
                FloatVector v = FloatVector.fromArray(FLOATS, x, xOff + c);
                FloatVector v2 = FloatVector.fromArray(FLOATS, x, xOff + c + LANES);
                max = max.blend(v, max.lt(v));
                max2 = max2.blend(v2, max2.lt(v2));
            }
            if (c < bound) {
                FloatVector v = FloatVector.fromArray(FLOATS, x, xOff + c);
                max = max.blend(v, max.lt(v));
            }
            max = max.blend(max2, max.lt(max2));
        } else {
            FloatVector max2 = max;
            int c = 0;
            for (; c + LANES < bound; c += 2 * LANES) {
                int at = xOff + c;
                FloatVector v = FloatVector.fromArray(FLOATS, x, at).mul(scale);
                FloatVector v2 = FloatVector.fromArray(FLOATS, x, at + LANES).mul(scale);
                if (mask != null) {
                    v = v.add(FloatVector.fromArray(FLOATS, mask, maskOff + c));
                    v2 = v2.add(FloatVector.fromArray(FLOATS, mask, maskOff + c + LANES));
                }
                v.intoArray(x, at);
                v2.intoArray(x, at + LANES);
                max = max.blend(v, max.lt(v));
                max2 = max2.blend(v2, max2.lt(v2));
            }
            if (c < bound) {
                int at = xOff + c;
                FloatVector v = FloatVector.fromArray(FLOATS, x, at).mul(scale);
                if (mask != null) {
                    v = v.add(FloatVector.fromArray(FLOATS, mask, maskOff + c));
                }
                v.intoArray(x, at);
                max = max.blend(v, max.lt(v));
            }
            max = max.blend(max2, max.lt(max2));
        }
        float rowMax = max.reduceLanes(VectorOperators.MAX);
        for (int c = bound; c < cols; c++) {
            float v = x[xOff + c] * scale + (mask == null ? 0f : mask[maskOff + c]);
            x[xOff + c] = v;
            rowMax = Math.max(rowMax, v);
        }
        // Pass 2: e^(x - max) and its sum. A max of +-inf gives NaN (inf - inf), as in PyTorch.
        FloatVector sum = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            int at = xOff + c;
            FloatVector shifted = FloatVector.fromArray(FLOATS, x, at).sub(rowMax);
            // e = e^(shifted), expanded from VectorMath.expOfNonPositive (shifted <= 0; in place: a vector passed
            // to a call C2 does not inline is boxed, see VectorMath).
            FloatVector expArg = shifted.blend(NON_POSITIVE_MIN_ARG, shifted.lt(NON_POSITIVE_MIN_ARG));
            FloatVector expRounded = expArg.mul(LOG2E).add(ROUNDING_MAGIC);
            FloatVector expN = expRounded.sub(ROUNDING_MAGIC);
            FloatVector expR = expN.fma(FloatVector.broadcast(FLOATS, -LN2_HI), expArg);
            expR = expN.fma(FloatVector.broadcast(FLOATS, -LN2_LO), expR);
            FloatVector expPoly = expR.fma(EXP_C6, EXP_C5);
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C4));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C3));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C2));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, 1f));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, 1f));
            // 2^n from the rounded sum's low bits (n plus the magic number's mantissa, which the shift drops):
            // an F2I conversion would cost Java's saturating fix-ups.
            FloatVector expScale = expRounded.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats();
            FloatVector e = expPoly.mul(expScale);
            e.intoArray(x, at);
            sum = sum.add(e);
        }
        // The lanes added in lane order, from a heap copy (see VectorSupport.sumInLaneOrder).
        sum.intoArray(lanes, 0);
        float total = VectorSupport.sumInLaneOrder(lanes);
        for (int c = bound; c < cols; c++) {
            float e = (float) Math.exp(x[xOff + c] - rowMax);
            x[xOff + c] = e;
            total += e;
        }
        return total;
    }

    /** {@code x[xOff .. xOff + cols) *= factor}. */
    static void scale(float[] x, int xOff, int cols, float factor) {
        int bound = FLOATS.loopBound(cols);
        for (int c = 0; c < bound; c += LANES) {
            int at = xOff + c;
            FloatVector.fromArray(FLOATS, x, at).mul(factor).intoArray(x, at);
        }
        for (int c = bound; c < cols; c++) {
            x[xOff + c] = x[xOff + c] * factor;
        }
    }
}
