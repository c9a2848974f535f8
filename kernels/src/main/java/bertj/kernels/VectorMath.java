package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector versions of exp, erf, tanh and the GELUs, in float, for the kernels' species.
 *
 * <p>The polynomial coefficients were fitted for this file (weighted least squares at Chebyshev nodes,
 * iteratively reweighted towards minimax, against 40-digit references, then rounded to float). Accuracy,
 * checked by the tests against the double scalar twins: exp within 2 ulp; erf within 1e-6 relative;
 * tanh within 2e-7 absolute + 1e-6 relative.
 */
final class VectorMath {
    private VectorMath() {}

    /** One Horner step: {@code p * x + c}. */
    private static FloatVector horner(FloatVector p, FloatVector x, float c) {
        return p.fma(x, FloatVector.broadcast(FLOATS, c));
    }

    private static final float LOG2E = 1.44269504088896341f;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^11.
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** Below this exp underflows to zero even as a subnormal; above the upper bound it overflows. */
    private static final float EXP_MIN_ARG = -104f;
    private static final float EXP_MAX_ARG = 89f;
    /** Adding then subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to an integer. */
    private static final float ROUNDING_MAGIC = 12582912f;

    /** exp(r) on [-ln2/2, ln2/2], degree 6, relative error 1.9e-9 before rounding. */
    private static final float EXP_C2 = 0.4999999f, EXP_C3 = 0.1666642f, EXP_C4 = 0.041668225f,
            EXP_C5 = 0.008374816f, EXP_C6 = 0.0013836842f;

    /** e^x. NaN stays NaN, -inf and x < -104 give 0, +inf and x > 88.72 give +inf; subnormal results are kept. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN_ARG).min(EXP_MAX_ARG);
        FloatVector n = xc.mul(LOG2E).add(ROUNDING_MAGIC).sub(ROUNDING_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LO), r);
        FloatVector p = r.fma(EXP_C6, EXP_C5);
        p = horner(horner(horner(horner(p, r, EXP_C4), r, EXP_C3), r, EXP_C2), r, 1f);
        p = horner(p, r, 1f);
        // 2^n as two factors 2^(n/2) 2^(n - n/2), each a normal float for n in [-150, 128].
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale1).mul(scale2);
    }

    /** erf(z)/z = P(z^2) on |z| <= 1, degree 6 in z^2, relative error 1.2e-9 before rounding. */
    private static final float ERF_P0 = 1.1283791f, ERF_P1 = -0.37612626f, ERF_P2 = 0.112835854f,
            ERF_P3 = -0.026853811f, ERF_P4 = 0.0051883277f, ERF_P5 = -0.00080101925f, ERF_P6 = 7.853858e-05f;

    /**
     * erfc(a) = t exp(-a^2 + Q(t)) with t = 1 / (1 + a/2), for a >= 0.9 (t <= 0.69); Q of degree 8, absolute
     * error 5e-9 before rounding (the form of the classic Chebyshev fit in Numerical Recipes, refitted).
     */
    private static final float ERFC_Q0 = -1.26549f, ERFC_Q1 = 0.99948484f, ERFC_Q2 = 0.37988326f,
            ERFC_Q3 = 0.05990121f, ERFC_Q4 = -0.032327097f, ERFC_Q5 = -0.15254745f, ERFC_Q6 = -0.33772692f,
            ERFC_Q7 = 0.56340367f, ERFC_Q8 = -0.21554059f;

    /** z P(z^2): erf for |z| <= 1. */
    private static FloatVector erfSmall(FloatVector z) {
        FloatVector s = z.mul(z);
        FloatVector p = s.fma(ERF_P6, ERF_P5);
        p = horner(horner(horner(horner(horner(p, s, ERF_P4), s, ERF_P3), s, ERF_P2), s, ERF_P1), s, ERF_P0);
        return z.mul(p);
    }

    /**
     * erfc(a) for a >= 0.9 (garbage below); 0 for a = +inf. The caller passes a^2 as {@code c s^2} with c = 1
     * or 1/2 (exact scalings), so that the argument of exp, {@code q - a^2}, is rounded once: its error,
     * half an ulp of a^2, is the result's relative error, and rounding a itself first would double it.
     */
    private static FloatVector erfcLarge(FloatVector a, FloatVector s, float c) {
        FloatVector t = a.fma(0.5f, 1f);
        t = FloatVector.broadcast(FLOATS, 1f).div(t);
        FloatVector q = horner(horner(horner(horner(horner(horner(horner(t.fma(ERFC_Q8, ERFC_Q7), t, ERFC_Q6), t,
                ERFC_Q5), t, ERFC_Q4), t, ERFC_Q3), t, ERFC_Q2), t, ERFC_Q1), t, ERFC_Q0);
        return t.mul(exp(s.mul(-c).fma(s, q)));
    }

    /** erf(z). */
    static FloatVector erf(FloatVector z) {
        FloatVector a = z.abs();
        VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
        FloatVector viaPoly = erfSmall(z);
        if (small.allTrue()) {
            return viaPoly;
        }
        FloatVector large = FloatVector.broadcast(FLOATS, 1f).sub(erfcLarge(a, z, 1f));
        return withSignOf(large, z).blend(viaPoly, small);
    }

    private static final float SQRT1_2 = 0.70710678118654752f;

    /**
     * x/2 (1 + erf(x/sqrt 2)). For |x/sqrt 2| > 1 it uses erfc, so that the negative tail (x/2 erfc(|z|))
     * keeps its relative accuracy instead of cancelling in 1 + erf.
     */
    static FloatVector geluErf(FloatVector x) {
        FloatVector z = x.mul(SQRT1_2);
        FloatVector a = z.abs();
        VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
        FloatVector halfX = x.mul(0.5f);
        FloatVector viaErf = halfX.fma(erfSmall(z), halfX);
        if (small.allTrue()) {
            return viaErf;
        }
        FloatVector q = erfcLarge(a, x, 0.5f);
        // x > 0: x (1 - q/2); x < 0: x/2 q. (The first form keeps gelu(+inf) = +inf.)
        FloatVector positive = x.mul(q.fma(-0.5f, 1f));
        FloatVector negative = halfX.mul(q);
        FloatVector viaErfc = positive.blend(negative, x.compare(VectorOperators.LT, 0f));
        return viaErfc.blend(viaErf, small);
    }

    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float GELU_TANH_CUBIC = 0.044715f;

    /** x/2 (1 + tanh(u)) with u = sqrt(2/pi)(x + 0.044715 x^3), computed as x / (1 + e^(-2u)) (no cancellation). */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector x2 = x.mul(x);
        FloatVector u = x2.fma(GELU_TANH_CUBIC, 1f).mul(x).mul(SQRT_2_OVER_PI);
        FloatVector e = exp(u.mul(-2f));
        return x.div(e.add(1f));
    }

    /** tanh(x)/x = P(x^2) on |x| <= 0.625, degree 5, relative error 4e-9 before rounding. */
    private static final float TANH_P1 = -0.3333326f, TANH_P2 = 0.13331127f, TANH_P3 = -0.053721067f,
            TANH_P4 = 0.020590983f, TANH_P5 = -0.005659985f;
    private static final float TANH_SMALL = 0.625f;

    /** tanh(x): an odd polynomial near 0, else sign(x) (1 - 2 / (e^(2|x|) + 1)). */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector s = x.mul(x);
        FloatVector p = horner(horner(horner(s.fma(TANH_P5, TANH_P4), s, TANH_P3), s, TANH_P2), s, TANH_P1).mul(s);
        FloatVector viaPoly = x.fma(p, x);
        VectorMask<Float> small = a.compare(VectorOperators.LE, TANH_SMALL);
        if (small.allTrue()) {
            return viaPoly;
        }
        FloatVector e = exp(a.add(a));
        FloatVector viaExp = FloatVector.broadcast(FLOATS, 1f).sub(FloatVector.broadcast(FLOATS, 2f).div(e.add(1f)));
        return withSignOf(viaExp, x).blend(viaPoly, small);
    }

    /** |v| with the sign of s (v must be >= 0). */
    private static FloatVector withSignOf(FloatVector v, FloatVector s) {
        return v.blend(v.neg(), s.compare(VectorOperators.LT, 0f));
    }

    /** max(x, 0), but NaN stays NaN as in torch.relu. */
    static FloatVector relu(FloatVector x) {
        return x.blend(FloatVector.zero(FLOATS), x.compare(VectorOperators.LT, 0f));
    }

    static FloatVector apply(Activation act, FloatVector x) {
        return switch (act) {
            case NONE -> x;
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> relu(x);
            case TANH -> tanh(x);
        };
    }
}
