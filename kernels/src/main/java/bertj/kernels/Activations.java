package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.Checks;
import bertj.kernels.reference.ReferenceKernels;
import bertj.kernels.reference.ScalarMath;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Element-wise activations over F32 {@code MemorySegment}s, in place, in SIMD. Their reference twins, in double
 * and rounded once to float, are {@link ReferenceKernels#geluErf} and the others next to it; the functions they
 * approximate are {@link ScalarMath}'s.
 */
public final class Activations {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Activations() {}

    // ---- vector, in place ----

    /** {@code x[i] = x[i]/2 (1 + erf(x[i]/sqrt 2))} for {@code i < n}. */
    public static void geluErf(MemorySegment x, long n) {
        apply(Activation.GELU_ERF, x, 0, Checks.length("x", x, n));
    }

    /** {@code x[i] = x[i]/2 (1 + tanh(sqrt(2/pi) (x[i] + 0.044715 x[i]^3)))} for {@code i < n}. */
    public static void geluTanh(MemorySegment x, long n) {
        apply(Activation.GELU_TANH, x, 0, Checks.length("x", x, n));
    }

    /** {@code x[i] = max(x[i], 0)} for {@code i < n} (NaN stays NaN). */
    public static void relu(MemorySegment x, long n) {
        apply(Activation.RELU, x, 0, Checks.length("x", x, n));
    }

    /** {@code x[i] = tanh(x[i])} for {@code i < n}. */
    public static void tanh(MemorySegment x, long n) {
        apply(Activation.TANH, x, 0, Checks.length("x", x, n));
    }

    /** {@code x[i] = erf(x[i])} for {@code i < n}, in float (within 1e-6 relative of {@link ScalarMath#erf(double)}). */
    public static void erf(MemorySegment x, long n) {
        VectorMath.erf(x, 0, Checks.length("x", x, n));
    }

    /** {@code x[r, c] += bias[c]} for x {@code [rows, cols]}, bias {@code [cols]}. */
    public static void addBias(MemorySegment x, int rows, int cols, MemorySegment bias) {
        Checks.matrix("x", x, rows, cols);
        Checks.length("bias", bias, cols);
        int bound = FLOATS.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            long row = 4L * r * cols;
            int c = 0;
            for (; c < bound; c += LANES) {
                FloatVector.fromMemorySegment(FLOATS, x, row + 4L * c, ORDER)
                        .add(FloatVector.fromMemorySegment(FLOATS, bias, 4L * c, ORDER))
                        .intoMemorySegment(x, row + 4L * c, ORDER);
            }
            for (; c < cols; c++) {
                x.set(FLOAT, row + 4L * c, x.get(FLOAT, row + 4L * c) + bias.get(FLOAT, 4L * c));
            }
        }
    }

    /** Applies {@code act} in place to {@code count} floats starting at byte {@code offset} of {@code x}. */
    static void apply(Activation act, MemorySegment x, long offset, long count) {
        switch (act) {
            case NONE -> { }
            case GELU_ERF -> VectorMath.geluErf(x, offset, count);
            case GELU_TANH -> VectorMath.geluTanh(x, offset, count);
            case RELU -> VectorMath.relu(x, offset, count);
            case TANH -> VectorMath.tanh(x, offset, count);
        }
    }
}
