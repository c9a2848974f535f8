package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Element-wise activations over F32 {@code MemorySegment}s, in place, and their scalar twins.
 *
 * <p>The scalar twins compute in double and round once to float; they define what the vector versions
 * approximate. Java has no erf, so {@link #erf(double)} and {@link #erfc(double)} are implemented here to
 * about 1e-15 relative.
 */
public final class Activations {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Activations() {}

    // ---- vector, in place ----

    /** {@code x[i] = x[i]/2 (1 + erf(x[i]/sqrt 2))} for {@code i < n}. */
    public static void geluErf(MemorySegment x, long n) {
        apply(Activation.GELU_ERF, x, 0, checkLength("x", x, n));
    }

    /** {@code x[i] = x[i]/2 (1 + tanh(sqrt(2/pi) (x[i] + 0.044715 x[i]^3)))} for {@code i < n}. */
    public static void geluTanh(MemorySegment x, long n) {
        apply(Activation.GELU_TANH, x, 0, checkLength("x", x, n));
    }

    /** {@code x[i] = max(x[i], 0)} for {@code i < n} (NaN stays NaN). */
    public static void relu(MemorySegment x, long n) {
        apply(Activation.RELU, x, 0, checkLength("x", x, n));
    }

    /** {@code x[i] = tanh(x[i])} for {@code i < n}. */
    public static void tanh(MemorySegment x, long n) {
        apply(Activation.TANH, x, 0, checkLength("x", x, n));
    }

    /** {@code x[i] = erf(x[i])} for {@code i < n}, in float (within 1e-6 relative of {@link #erf(double)}). */
    public static void erf(MemorySegment x, long n) {
        VectorMath.erf(x, 0, checkLength("x", x, n));
    }

    /** {@code x[r, c] += bias[c]} for x {@code [rows, cols]}, bias {@code [cols]}. */
    public static void addBias(MemorySegment x, int rows, int cols, MemorySegment bias) {
        checkMatrix("x", x, rows, cols);
        checkLength("bias", bias, cols);
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

    // ---- scalar twins, in place ----

    public static void geluErfScalar(MemorySegment x, long n) {
        applyScalar(Activation.GELU_ERF, x, checkLength("x", x, n));
    }

    public static void geluTanhScalar(MemorySegment x, long n) {
        applyScalar(Activation.GELU_TANH, x, checkLength("x", x, n));
    }

    public static void reluScalar(MemorySegment x, long n) {
        applyScalar(Activation.RELU, x, checkLength("x", x, n));
    }

    public static void tanhScalar(MemorySegment x, long n) {
        applyScalar(Activation.TANH, x, checkLength("x", x, n));
    }

    public static void addBiasScalar(MemorySegment x, int rows, int cols, MemorySegment bias) {
        checkMatrix("x", x, rows, cols);
        checkLength("bias", bias, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long at = 4L * ((long) r * cols + c);
                x.set(FLOAT, at, x.get(FLOAT, at) + bias.get(FLOAT, 4L * c));
            }
        }
    }

    private static void applyScalar(Activation act, MemorySegment x, long n) {
        for (long i = 0; i < n; i++) {
            x.set(FLOAT, 4 * i, (float) apply(act, x.get(FLOAT, 4 * i)));
        }
    }

    // ---- scalar functions (double) ----

    /** The activation in double: the definition the vector kernels approximate. */
    public static double apply(Activation act, double x) {
        return switch (act) {
            case NONE -> x;
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> x < 0 ? 0 : x;
            case TANH -> Math.tanh(x);
        };
    }

    private static final double SQRT1_2 = 0.70710678118654752440;
    private static final double TWO_OVER_SQRT_PI = 1.12837916709551257390;
    private static final double ONE_OVER_SQRT_PI = 0.56418958354775628695;

    /**
     * {@code x/2 (1 + erf(x/sqrt 2))}, computed as {@code x/2 erfc(-x/sqrt 2)} so that the negative tail keeps
     * its precision.
     */
    public static double geluErf(double x) {
        return 0.5 * x * erfc(-x * SQRT1_2);
    }

    /** {@code x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    }

    /** Below this |x| erf uses its power series, above it the continued fraction of erfc. */
    private static final double SERIES_LIMIT = 2.5;
    /** Depth of erfc's continued fraction: converged to 1 ulp for x >= 2.5. */
    private static final int CONTINUED_FRACTION_DEPTH = 50;

    /**
     * The error function, to about 1e-15 relative. For |x| < 2.5 the series
     * {@code erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1))} (all terms positive, so no
     * cancellation; at most 38 terms); beyond, {@code 1 - erfc(x)}.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        if (a >= SERIES_LIMIT) {
            return Math.copySign(1 - erfcContinuedFraction(a), x);
        }
        if (a < 1e-300) {
            return x * TWO_OVER_SQRT_PI;
        }
        double sum = a;
        double term = a;
        double twoA2 = 2 * a * a;
        for (int n = 0; term > 1e-17 * sum; n++) {
            term *= twoA2 / (2 * n + 3);
            sum += term;
        }
        return Math.copySign(TWO_OVER_SQRT_PI * expMinusSquare(a) * sum, x);
    }

    /**
     * The complementary error function {@code 1 - erf(x)}: about 1e-15 relative for x < 0.5 and x >= 2.5
     * (until it underflows past 26), and 1e-15 absolute in between, where it is {@code 1 - erf(x)}.
     */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < 0) {
            return 1 + erf(-x);
        }
        return x >= SERIES_LIMIT ? erfcContinuedFraction(x) : 1 - erf(x);
    }

    /** erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), for x >= 2.5. */
    private static double erfcContinuedFraction(double x) {
        if (x == Double.POSITIVE_INFINITY) {
            return 0;
        }
        double f = x;
        for (int j = CONTINUED_FRACTION_DEPTH; j >= 1; j--) {
            f = x + 0.5 * j / f;
        }
        return ONE_OVER_SQRT_PI * expMinusSquare(x) / f;
    }

    /** e^(-x^2) without the rounding error of x^2 (which would be amplified by x^2). */
    private static double expMinusSquare(double x) {
        double square = x * x;
        double roundingError = Math.fma(x, x, -square);
        return Math.exp(-square) * (1 - roundingError);
    }

    // ---- argument checks shared by the kernels ----

    static long checkLength(String name, MemorySegment segment, long floats) {
        if (segment == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (floats < 0) {
            throw new IllegalArgumentException("length of " + name + " must be >= 0, got " + floats);
        }
        if (segment.byteSize() < 4 * floats) {
            throw new IllegalArgumentException(name + " has " + segment.byteSize() / 4 + " floats, needs " + floats);
        }
        return floats;
    }

    static void checkMatrix(String name, MemorySegment segment, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(name + " shape [" + rows + ", " + cols + "] must not be negative");
        }
        if (segment == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (segment.byteSize() < 4L * rows * cols) {
            throw new IllegalArgumentException(name + " has " + segment.byteSize() / 4 + " floats, needs [" + rows
                    + ", " + cols + "] = " + (long) rows * cols);
        }
    }
}
