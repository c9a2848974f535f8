package bertj.kernels.reference;

import bertj.kernels.Activation;

/**
 * The element-wise functions in double: the definitions that the float SIMD versions ({@code VectorMath})
 * approximate and that the reference kernels apply before rounding once to float. Java has no erf, so
 * {@link #erf(double)} and {@link #erfc(double)} are implemented here to about 1e-15 relative.
 */
public final class ScalarMath {
    private ScalarMath() {}

    /** The activation in double: the definition the vector kernels approximate. */
    public static double apply(Activation act, double x) {
        return switch (act) {
            case NONE -> x;
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> relu(x);
            case TANH -> tanh(x);
        };
    }

    /** e^x. The SIMD exp ({@code VectorMath.exp}, in float) is held to within 2 ulp of it. */
    public static double exp(double x) {
        return Math.exp(x);
    }

    /** tanh(x). */
    public static double tanh(double x) {
        return Math.tanh(x);
    }

    /** {@code max(x, 0)}; NaN stays NaN, as torch.relu. */
    public static double relu(double x) {
        return x < 0 ? 0 : x;
    }

    private static final double SQRT1_2 = 0.70710678118654752440;
    private static final double TWO_OVER_SQRT_PI = 1.12837916709551257390;
    private static final double ONE_OVER_SQRT_PI = 0.56418958354775628695;

    /**
     * {@code x/2 (1 + erf(x/sqrt 2))}, computed as {@code x/2 erfc(-x/sqrt 2)} so that the negative tail keeps
     * its precision. Hugging Face's {@code "gelu"}, the one BERT uses.
     */
    public static double geluErf(double x) {
        return 0.5 * x * erfc(-x * SQRT1_2);
    }

    /** {@code x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: {@code "gelu_new"}, {@code "gelu_pytorch_tanh"}. */
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
}
