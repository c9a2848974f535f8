package bertj.kernels;

import static bertj.kernels.VectorMath.EXP_C2;
import static bertj.kernels.VectorMath.EXP_C3;
import static bertj.kernels.VectorMath.EXP_C4;
import static bertj.kernels.VectorMath.EXP_C5;
import static bertj.kernels.VectorMath.EXP_C6;
import static bertj.kernels.VectorMath.EXP_MAX_ARG;
import static bertj.kernels.VectorMath.EXP_MIN_ARG;
import static bertj.kernels.VectorMath.LN2_HI;
import static bertj.kernels.VectorMath.LN2_LO;
import static bertj.kernels.VectorMath.LOG2E;
import static bertj.kernels.VectorMath.ROUNDING_MAGIC;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Row-wise softmax with an optional additive mask, as {@code torch.softmax(x + mask, dim=-1)}.
 *
 * <p>Max subtraction keeps it stable for any magnitude. Special rows behave as in PyTorch: a row masked
 * everywhere with float32's minimum becomes uniform (all its entries are equal), a row of -inf becomes NaN,
 * NaN anywhere in a row makes the row NaN.
 */
public final class Softmax {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Softmax() {}

    /**
     * In place: {@code x[r, :] = softmax(x[r, :] + mask)}.
     *
     * @param x    {@code [rows, cols]} F32
     * @param mask {@code [cols]} F32 added to every row before the softmax, or null
     */
    public static void rows(MemorySegment x, int rows, int cols, MemorySegment mask) {
        Activations.checkMatrix("x", x, rows, cols);
        if (mask != null) {
            Activations.checkLength("mask", mask, cols);
        }
        for (int r = 0; r < rows; r++) {
            row(x, 4L * r * cols, cols, mask, 0, 1f);
        }
    }

    /**
     * Softmax of one row in place: {@code x = softmax(scale * x + mask)}, at byte offsets {@code xOff} and
     * {@code maskOff}; {@code mask} may be null. The exponential is written out in the loop (see VectorMath
     * on why); the last {@code cols % LANES} entries take the scalar path, in float as the vector one, with
     * e^x from Math.exp.
     */
    static void row(MemorySegment x, long xOff, int cols, MemorySegment mask, long maskOff, float scale) {
        int bound = FLOATS.loopBound(cols);
        // Pass 1: scale, add the mask, store back, track the maximum (NaN propagates through max).
        FloatVector max = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < bound; c += LANES) {
            long at = xOff + 4L * c;
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).mul(scale);
            if (mask != null) {
                v = v.add(FloatVector.fromMemorySegment(FLOATS, mask, maskOff + 4L * c, ORDER));
            }
            v.intoMemorySegment(x, at, ORDER);
            max = max.max(v);
        }
        float rowMax = max.reduceLanes(VectorOperators.MAX);
        for (int c = bound; c < cols; c++) {
            float v = x.get(FLOAT, xOff + 4L * c) * scale + (mask == null ? 0f : mask.get(FLOAT, maskOff + 4L * c));
            x.set(FLOAT, xOff + 4L * c, v);
            rowMax = Math.max(rowMax, v);
        }
        // Pass 2: e^(x - max) and its sum. A max of +-inf gives NaN (inf - inf), as in PyTorch.
        FloatVector sum = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            long at = xOff + 4L * c;
            FloatVector shifted = FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).sub(rowMax);
            // e = e^(shifted), expanded from VectorMath.exp
            FloatVector expArg = shifted.max(EXP_MIN_ARG).min(EXP_MAX_ARG);
            FloatVector expN = expArg.mul(LOG2E).add(ROUNDING_MAGIC).sub(ROUNDING_MAGIC);
            FloatVector expR = expN.fma(FloatVector.broadcast(FLOATS, -LN2_HI), expArg);
            expR = expN.fma(FloatVector.broadcast(FLOATS, -LN2_LO), expR);
            FloatVector expPoly = expR.fma(EXP_C6, EXP_C5);
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C4));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C3));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, EXP_C2));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, 1f));
            expPoly = expPoly.fma(expR, FloatVector.broadcast(FLOATS, 1f));
            IntVector expInt = (IntVector) expN.convert(VectorOperators.F2I, 0);
            IntVector expHalf = expInt.lanewise(VectorOperators.ASHR, 1);
            FloatVector expScale1 = expHalf.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector expScale2 = expInt.sub(expHalf).add(127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = expPoly.mul(expScale1).mul(expScale2);
            e.intoMemorySegment(x, at, ORDER);
            sum = sum.add(e);
        }
        float total = VectorSupport.sumLanes(sum); // a fixed order: the same result before and after JIT
        for (int c = bound; c < cols; c++) {
            float e = (float) Math.exp(x.get(FLOAT, xOff + 4L * c) - rowMax);
            x.set(FLOAT, xOff + 4L * c, e);
            total += e;
        }
        // Pass 3: normalise.
        float inverse = 1f / total;
        for (int c = 0; c < bound; c += LANES) {
            long at = xOff + 4L * c;
            FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).mul(inverse).intoMemorySegment(x, at, ORDER);
        }
        for (int c = bound; c < cols; c++) {
            x.set(FLOAT, xOff + 4L * c, x.get(FLOAT, xOff + 4L * c) * inverse);
        }
    }

    /** The scalar twin of {@link #rows}, accumulating the sum in double. */
    public static void rowsScalar(MemorySegment x, int rows, int cols, MemorySegment mask) {
        Activations.checkMatrix("x", x, rows, cols);
        if (mask != null) {
            Activations.checkLength("mask", mask, cols);
        }
        for (int r = 0; r < rows; r++) {
            rowScalar(x, 4L * r * cols, cols, mask, 0, 1f);
        }
    }

    /**
     * Scalar twin of {@link #row}: the inputs formed in float as PyTorch does ({@code scale * x + mask}), the
     * exponentials and their sum in double.
     */
    static void rowScalar(MemorySegment x, long xOff, int cols, MemorySegment mask, long maskOff, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            float v = x.get(FLOAT, xOff + 4L * c) * scale;
            if (mask != null) {
                v += mask.get(FLOAT, maskOff + 4L * c);
            }
            x.set(FLOAT, xOff + 4L * c, v);
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < cols; c++) {
            sum += Math.exp((double) x.get(FLOAT, xOff + 4L * c) - max);
        }
        for (int c = 0; c < cols; c++) {
            x.set(FLOAT, xOff + 4L * c, (float) (Math.exp((double) x.get(FLOAT, xOff + 4L * c) - max) / sum));
        }
    }
}
