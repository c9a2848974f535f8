package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
     * {@code maskOff}; {@code mask} may be null.
     */
    static void row(MemorySegment x, long xOff, int cols, MemorySegment mask, long maskOff, float scale) {
        int bound = FLOATS.loopBound(cols);
        VectorMask<Float> tail = FLOATS.indexInRange(bound, cols);
        // Pass 1: scale, add the mask, store back, track the maximum (NaN propagates through max).
        FloatVector max = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < bound; c += LANES) {
            FloatVector v = scaledMasked(x, xOff + 4L * c, mask, maskOff + 4L * c, scale, null);
            v.intoMemorySegment(x, xOff + 4L * c, ORDER);
            max = max.max(v);
        }
        float rowMax = max.reduceLanes(VectorOperators.MAX);
        if (bound < cols) {
            FloatVector v = scaledMasked(x, xOff + 4L * bound, mask, maskOff + 4L * bound, scale, tail);
            v.intoMemorySegment(x, xOff + 4L * bound, ORDER, tail);
            rowMax = Math.max(rowMax, v.reduceLanes(VectorOperators.MAX, tail));
        }
        // Pass 2: e^(x - max) and its sum. A max of +-inf gives NaN (inf - inf), as in PyTorch.
        FloatVector sum = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            long at = xOff + 4L * c;
            FloatVector e = VectorMath.exp(FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).sub(rowMax));
            e.intoMemorySegment(x, at, ORDER);
            sum = sum.add(e);
        }
        float total = VectorSupport.sumLanes(sum);
        if (bound < cols) {
            long at = xOff + 4L * bound;
            FloatVector e = VectorMath.exp(FloatVector.fromMemorySegment(FLOATS, x, at, ORDER, tail).sub(rowMax));
            e.intoMemorySegment(x, at, ORDER, tail);
            total += VectorSupport.sumLanes(FloatVector.zero(FLOATS).blend(e, tail));
        }
        // Pass 3: normalise.
        float inverse = 1f / total;
        for (int c = 0; c < bound; c += LANES) {
            long at = xOff + 4L * c;
            FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).mul(inverse).intoMemorySegment(x, at, ORDER);
        }
        if (bound < cols) {
            long at = xOff + 4L * bound;
            FloatVector.fromMemorySegment(FLOATS, x, at, ORDER, tail).mul(inverse)
                    .intoMemorySegment(x, at, ORDER, tail);
        }
    }

    private static FloatVector scaledMasked(MemorySegment x, long at, MemorySegment mask, long maskAt, float scale,
            VectorMask<Float> lanes) {
        FloatVector v = lanes == null
                ? FloatVector.fromMemorySegment(FLOATS, x, at, ORDER)
                : FloatVector.fromMemorySegment(FLOATS, x, at, ORDER, lanes);
        if (scale != 1f) {
            v = v.mul(scale);
        }
        if (mask != null) {
            v = v.add(lanes == null
                    ? FloatVector.fromMemorySegment(FLOATS, mask, maskAt, ORDER)
                    : FloatVector.fromMemorySegment(FLOATS, mask, maskAt, ORDER, lanes));
        }
        return v;
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
