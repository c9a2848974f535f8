package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.ScalarMath;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector versions of exp, erf, tanh and the GELUs, in float, for the kernels' species.
 *
 * <p>The polynomial coefficients were fitted for this file (weighted least squares at Chebyshev nodes,
 * iteratively reweighted towards minimax, against 40-digit references, then rounded to float). Accuracy,
 * checked by the tests against the double functions they approximate
 * ({@link ScalarMath}): exp within 2 ulp; erf within 1e-6 relative;
 * tanh within 2e-7 absolute + 1e-6 relative.
 */
final class VectorMath {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private VectorMath() {}

    /** One Horner step: {@code p * x + c}. */
    private static FloatVector horner(FloatVector p, FloatVector x, float c) {
        return p.fma(x, FloatVector.broadcast(FLOATS, c));
    }

    static final float LOG2E = 1.44269504088896341f;
    // ln 2 split so that n * LN2_HI is exact for |n| < 2^11.
    static final float LN2_HI = 0.693145751953125f;
    static final float LN2_LO = 1.42860682030941723212e-6f;
    /** Below this exp underflows to zero even as a subnormal; above the upper bound it overflows. */
    static final float EXP_MIN_ARG = -104f;
    static final float EXP_MAX_ARG = 89f;
    /** Adding then subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to an integer. */
    static final float ROUNDING_MAGIC = 12582912f;
    /** Its bits: {@code bits(x + ROUNDING_MAGIC) - ROUNDING_MAGIC_BITS} is that integer (same exponent). */
    static final int ROUNDING_MAGIC_BITS = Float.floatToRawIntBits(ROUNDING_MAGIC);

    /** exp(r) on [-ln2/2, ln2/2], degree 6, relative error 1.9e-9 before rounding. */
    static final float EXP_C2 = 0.4999999f, EXP_C3 = 0.1666642f, EXP_C4 = 0.041668225f,
            EXP_C5 = 0.008374816f, EXP_C6 = 0.0013836842f;

    // ---- The one exp, and its two variants -------------------------------------------------------------
    // exp is the definition: clamp, x = n ln2 + r, a degree-6 polynomial for e^r (Horner), 2^n in the exponent
    // bits. Two variants change only what makes them faster where they are used, and give other bits, so they
    // cannot be replaced by it: expEstrin (the polynomial by Estrin's scheme, for erf's latency-bound tail)
    // and expOfNonPositive (one scale factor, for the softmax's x - max <= 0). The kernels' loops write the
    // sequence they use out in place, marked "expanded from VectorMath.<name>", because a vector passed to a
    // call C2 does not inline is boxed (see below). Each definition is tested bit for bit against its scalar
    // twin in SimdTwins, which SimdTwinsTest tests bit for bit against the kernels that expand it.

    /**
     * e^x. NaN stays NaN, -inf and x < -104 give 0, +inf and x > 88.72 give +inf; subnormal results are
     * kept. Expanded in place in {@link #geluTanh} and {@link #tanh}.
     */
    static FloatVector exp(FloatVector x) {
        // Clamped with compares and blends (NaN kept): Java's max and min are long sequences on x86.
        FloatVector xc = x.blend(EXP_MIN_ARG, x.lt(EXP_MIN_ARG))
                .blend(EXP_MAX_ARG, x.compare(VectorOperators.GT, EXP_MAX_ARG));
        FloatVector rounded = xc.mul(LOG2E).add(ROUNDING_MAGIC);
        FloatVector n = rounded.sub(ROUNDING_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LO), r);
        FloatVector p = r.fma(EXP_C6, EXP_C5);
        p = horner(horner(horner(horner(p, r, EXP_C4), r, EXP_C3), r, EXP_C2), r, 1f);
        p = horner(p, r, 1f);
        // 2^n as two factors 2^(n/2) 2^(n - n/2), each a normal float for n in [-150, 128].
        // n itself is in the rounded sum's low bits: cheaper than F2I, which has Java's saturation fix-ups.
        IntVector ni = rounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale1).mul(scale2);
    }

    /**
     * {@link #exp}, its polynomial by Estrin's scheme: half the dependent FMAs of Horner's (erf's tail is bound
     * by their latency: 13-18% faster GELU), other rounding. Expanded in place in {@link #erf} and
     * {@link #geluErf}.
     */
    static FloatVector expEstrin(FloatVector x) {
        FloatVector xc = x.blend(EXP_MIN_ARG, x.lt(EXP_MIN_ARG))
                .blend(EXP_MAX_ARG, x.compare(VectorOperators.GT, EXP_MAX_ARG));
        FloatVector rounded = xc.mul(LOG2E).add(ROUNDING_MAGIC);
        FloatVector n = rounded.sub(ROUNDING_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LO), r);
        FloatVector r2 = r.mul(r);
        FloatVector p = r2.fma(FloatVector.broadcast(FLOATS, EXP_C6), r.fma(EXP_C5, EXP_C4))
                .fma(r2, r.fma(EXP_C3, EXP_C2))
                .fma(r2, r.add(1f));
        IntVector ni = rounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scale2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale1).mul(scale2);
    }

    /** Least argument of {@link #expOfNonPositive}: below it (n = -127) the scale factor's bits are 0. */
    static final float NON_POSITIVE_MIN_ARG = -88f;

    /**
     * {@link #exp} for x <= 0 (NaN stays NaN), with one scale factor 2^n, a normal float for n in [-126, 0]:
     * six operations fewer. Below -88 it gives 0 where the true value is a subnormal under 1e-38. The
     * softmax's exponentials of x - max; expanded in place in {@link Softmax#exponentials}.
     */
    static FloatVector expOfNonPositive(FloatVector x) {
        FloatVector xc = x.blend(NON_POSITIVE_MIN_ARG, x.lt(NON_POSITIVE_MIN_ARG));
        FloatVector rounded = xc.mul(LOG2E).add(ROUNDING_MAGIC);
        FloatVector n = rounded.sub(ROUNDING_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LO), r);
        FloatVector p = r.fma(EXP_C6, EXP_C5);
        p = horner(horner(horner(horner(p, r, EXP_C4), r, EXP_C3), r, EXP_C2), r, 1f);
        p = horner(p, r, 1f);
        // 2^n from the rounded sum's low bits (n plus the magic number's mantissa, which the shift drops).
        FloatVector scale = rounded.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(scale);
    }

    /** erf(z)/z = P(z^2) on |z| <= 1, degree 6 in z^2, relative error 1.2e-9 before rounding. */
    static final float ERF_P0 = 1.1283791f, ERF_P1 = -0.37612626f, ERF_P2 = 0.112835854f,
            ERF_P3 = -0.026853811f, ERF_P4 = 0.0051883277f, ERF_P5 = -0.00080101925f, ERF_P6 = 7.853858e-05f;

    /**
     * erfc(a) = t exp(-a^2 + Q(t)) with t = 1 / (1 + a/2), for a >= 0.9 (t <= 0.69); Q of degree 8, absolute
     * error 5e-9 before rounding (the form of the classic Chebyshev fit in Numerical Recipes, refitted).
     */
    static final float ERFC_Q0 = -1.26549f, ERFC_Q1 = 0.99948484f, ERFC_Q2 = 0.37988326f,
            ERFC_Q3 = 0.05990121f, ERFC_Q4 = -0.032327097f, ERFC_Q5 = -0.15254745f, ERFC_Q6 = -0.33772692f,
            ERFC_Q7 = 0.56340367f, ERFC_Q8 = -0.21554059f;

    // The functions below are loops over a range of a segment, with the whole computation in the loop
    // body: exp and the erf/erfc polynomials are written out in place (mechanically, the same sequences
    // as exp above) rather than called. A call that passes vectors must be inlined by C2, or every vector
    // crossing it is boxed on the heap (10 to 100 times slower), and C2 gives up inlining such helpers
    // once a method grows past its node budget (NodeCountInliningCutoff) or when the helper was compiled
    // on its own first. The Vector API's own methods are force-inlined, so straight-line code is safe.
    // The last count % LANES elements go through the double scalar function the vector one approximates.

    static final float SQRT1_2 = 0.70710678118654752f;
    static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    static final float GELU_TANH_CUBIC = 0.044715f;
    /** tanh(x)/x = P(x^2) on |x| <= 0.625, degree 5, relative error 4e-9 before rounding. */
    static final float TANH_P1 = -0.3333326f, TANH_P2 = 0.13331127f, TANH_P3 = -0.053721067f,
            TANH_P4 = 0.020590983f, TANH_P5 = -0.005659985f;
    static final float TANH_SMALL = 0.625f;

    /**
     * {@code x = erf(x)}: {@code z P(z^2)} for |z| <= 1, else {@code sign(z) (1 - erfc(|z|))}.
     */
    static void erf(MemorySegment x, long offset, long count) {
        long end = offset + 4 * (count - count % LANES);
        for (long p = offset; p < end; p += 4L * LANES) {
            FloatVector z = FloatVector.fromMemorySegment(FLOATS, x, p, ORDER);
            FloatVector a = z.abs();
            VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
            FloatVector seriesSquare = z.mul(z);
            FloatVector seriesPoly = seriesSquare.fma(ERF_P6, ERF_P5);
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P4));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P3));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P2));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P1));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P0));
            FloatVector result = z.mul(seriesPoly);
            if (!small.allTrue()) {
                FloatVector tailT = FloatVector.broadcast(FLOATS, 1f).div(a.fma(0.5f, 1f));
                // Q(t) and the exponential's polynomial by Estrin's scheme: half the dependent FMAs of
                // Horner's, and this tail is bound by their latency (13-18% faster GELU).
                FloatVector tailT2 = tailT.mul(tailT);
                FloatVector tailT4 = tailT2.mul(tailT2);
                FloatVector tailQ03 = tailT.fma(ERFC_Q3, ERFC_Q2).fma(tailT2, tailT.fma(ERFC_Q1, ERFC_Q0));
                FloatVector tailQ47 = tailT.fma(ERFC_Q7, ERFC_Q6).fma(tailT2, tailT.fma(ERFC_Q5, ERFC_Q4));
                FloatVector tailQ = tailT4.fma(FloatVector.broadcast(FLOATS, ERFC_Q8), tailQ47).fma(tailT4, tailQ03);
                // tailExp = e^(z.mul(-1f).fma(z, tailQ)), expanded from VectorMath.expEstrin
                FloatVector tailExpArgUnclamped = z.mul(-1f).fma(z, tailQ);
                FloatVector tailExpArg = tailExpArgUnclamped.blend(EXP_MIN_ARG, tailExpArgUnclamped.lt(EXP_MIN_ARG))
                        .blend(EXP_MAX_ARG, tailExpArgUnclamped.compare(VectorOperators.GT, EXP_MAX_ARG));
                FloatVector tailExpRounded = tailExpArg.mul(LOG2E).add(ROUNDING_MAGIC);
                FloatVector tailExpN = tailExpRounded.sub(ROUNDING_MAGIC);
                FloatVector tailExpR = tailExpN.fma(FloatVector.broadcast(FLOATS, -LN2_HI), tailExpArg);
                tailExpR = tailExpN.fma(FloatVector.broadcast(FLOATS, -LN2_LO), tailExpR);
                FloatVector tailExpR2 = tailExpR.mul(tailExpR);
                FloatVector tailExpPoly = tailExpR2.fma(FloatVector.broadcast(FLOATS, EXP_C6), tailExpR.fma(EXP_C5, EXP_C4))
                        .fma(tailExpR2, tailExpR.fma(EXP_C3, EXP_C2))
                        .fma(tailExpR2, tailExpR.add(1f));
                IntVector tailExpInt = tailExpRounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
                IntVector tailExpHalf = tailExpInt.lanewise(VectorOperators.ASHR, 1);
                FloatVector tailExpScale1 = tailExpHalf.add(127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector tailExpScale2 = tailExpInt.sub(tailExpHalf).add(127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector tailExp = tailExpPoly.mul(tailExpScale1).mul(tailExpScale2);
                FloatVector erfc = tailT.mul(tailExp);
                FloatVector large = FloatVector.broadcast(FLOATS, 1f).sub(erfc);
                result = large.blend(large.neg(), z.compare(VectorOperators.LT, 0f)).blend(result, small);
            }
            result.intoMemorySegment(x, p, ORDER);
        }
        scalarTail(x, end, offset + 4 * count, ScalarMath::erf);
    }

    /**
     * {@code x = x/2 (1 + erf(x/sqrt 2))}, via erfc where |x/sqrt 2| > 1 so the negative tail keeps its relative
     * accuracy.
     */
    static void geluErf(MemorySegment x, long offset, long count) {
        long end = offset + 4 * (count - count % LANES);
        for (long p = offset; p < end; p += 4L * LANES) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, p, ORDER);
            FloatVector z = v.mul(SQRT1_2);
            FloatVector a = z.abs();
            VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
            FloatVector halfX = v.mul(0.5f);
            FloatVector seriesSquare = z.mul(z);
            FloatVector seriesPoly = seriesSquare.fma(ERF_P6, ERF_P5);
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P4));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P3));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P2));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P1));
            seriesPoly = seriesPoly.fma(seriesSquare, FloatVector.broadcast(FLOATS, ERF_P0));
            FloatVector erf = z.mul(seriesPoly);
            FloatVector result = halfX.fma(erf, halfX);
            if (!small.allTrue()) {
                FloatVector tailT = FloatVector.broadcast(FLOATS, 1f).div(a.fma(0.5f, 1f));
                // Q(t) and the exponential's polynomial by Estrin's scheme: half the dependent FMAs of
                // Horner's, and this tail is bound by their latency (13-18% faster GELU).
                FloatVector tailT2 = tailT.mul(tailT);
                FloatVector tailT4 = tailT2.mul(tailT2);
                FloatVector tailQ03 = tailT.fma(ERFC_Q3, ERFC_Q2).fma(tailT2, tailT.fma(ERFC_Q1, ERFC_Q0));
                FloatVector tailQ47 = tailT.fma(ERFC_Q7, ERFC_Q6).fma(tailT2, tailT.fma(ERFC_Q5, ERFC_Q4));
                FloatVector tailQ = tailT4.fma(FloatVector.broadcast(FLOATS, ERFC_Q8), tailQ47).fma(tailT4, tailQ03);
                // tailExp = e^(v.mul(-0.5f).fma(v, tailQ)), expanded from VectorMath.expEstrin
                FloatVector tailExpArgUnclamped = v.mul(-0.5f).fma(v, tailQ);
                FloatVector tailExpArg = tailExpArgUnclamped.blend(EXP_MIN_ARG, tailExpArgUnclamped.lt(EXP_MIN_ARG))
                        .blend(EXP_MAX_ARG, tailExpArgUnclamped.compare(VectorOperators.GT, EXP_MAX_ARG));
                FloatVector tailExpRounded = tailExpArg.mul(LOG2E).add(ROUNDING_MAGIC);
                FloatVector tailExpN = tailExpRounded.sub(ROUNDING_MAGIC);
                FloatVector tailExpR = tailExpN.fma(FloatVector.broadcast(FLOATS, -LN2_HI), tailExpArg);
                tailExpR = tailExpN.fma(FloatVector.broadcast(FLOATS, -LN2_LO), tailExpR);
                FloatVector tailExpR2 = tailExpR.mul(tailExpR);
                FloatVector tailExpPoly = tailExpR2.fma(FloatVector.broadcast(FLOATS, EXP_C6), tailExpR.fma(EXP_C5, EXP_C4))
                        .fma(tailExpR2, tailExpR.fma(EXP_C3, EXP_C2))
                        .fma(tailExpR2, tailExpR.add(1f));
                IntVector tailExpInt = tailExpRounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
                IntVector tailExpHalf = tailExpInt.lanewise(VectorOperators.ASHR, 1);
                FloatVector tailExpScale1 = tailExpHalf.add(127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector tailExpScale2 = tailExpInt.sub(tailExpHalf).add(127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector tailExp = tailExpPoly.mul(tailExpScale1).mul(tailExpScale2);
                FloatVector q = tailT.mul(tailExp);
                // x > 0: x (1 - q/2); x < 0: x/2 q. (The first form keeps gelu(+inf) = +inf.)
                FloatVector positive = v.mul(q.fma(-0.5f, 1f));
                result = positive.blend(halfX.mul(q), v.compare(VectorOperators.LT, 0f)).blend(result, small);
            }
            result.intoMemorySegment(x, p, ORDER);
        }
        scalarTail(x, end, offset + 4 * count, ScalarMath::geluErf);
    }

    /**
     * {@code x = x/2 (1 + tanh(u))}, {@code u = sqrt(2/pi)(x + 0.044715 x^3)}, as {@code x / (1 + e^(-2u))} (no
     * cancellation).
     */
    static void geluTanh(MemorySegment x, long offset, long count) {
        long end = offset + 4 * (count - count % LANES);
        for (long p = offset; p < end; p += 4L * LANES) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, p, ORDER);
            FloatVector u = v.mul(v).fma(GELU_TANH_CUBIC, 1f).mul(v).mul(SQRT_2_OVER_PI);
            // e = e^(u.mul(-2f)), expanded from VectorMath.exp
            FloatVector expArgUnclamped = u.mul(-2f);
            FloatVector expArg = expArgUnclamped.blend(EXP_MIN_ARG, expArgUnclamped.lt(EXP_MIN_ARG))
                    .blend(EXP_MAX_ARG, expArgUnclamped.compare(VectorOperators.GT, EXP_MAX_ARG));
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
            IntVector expInt = expRounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
            IntVector expHalf = expInt.lanewise(VectorOperators.ASHR, 1);
            FloatVector expScale1 = expHalf.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector expScale2 = expInt.sub(expHalf).add(127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = expPoly.mul(expScale1).mul(expScale2);
            v.div(e.add(1f)).intoMemorySegment(x, p, ORDER);
        }
        scalarTail(x, end, offset + 4 * count, ScalarMath::geluTanh);
    }

    /**
     * {@code x = tanh(x)}: an odd polynomial for |x| <= 0.625, else {@code sign(x) (1 - 2 / (e^(2|x|) + 1))}.
     */
    static void tanh(MemorySegment x, long offset, long count) {
        long end = offset + 4 * (count - count % LANES);
        for (long p = offset; p < end; p += 4L * LANES) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, p, ORDER);
            FloatVector a = v.abs();
            FloatVector s = v.mul(v);
            FloatVector poly = s.fma(TANH_P5, TANH_P4);
            poly = poly.fma(s, FloatVector.broadcast(FLOATS, TANH_P3));
            poly = poly.fma(s, FloatVector.broadcast(FLOATS, TANH_P2));
            poly = poly.fma(s, FloatVector.broadcast(FLOATS, TANH_P1));
            FloatVector result = v.fma(poly.mul(s), v);
            VectorMask<Float> small = a.compare(VectorOperators.LE, TANH_SMALL);
            if (!small.allTrue()) {
                // e = e^(a.add(a)), expanded from VectorMath.exp
                FloatVector expArgUnclamped = a.add(a);
                FloatVector expArg = expArgUnclamped.blend(EXP_MIN_ARG, expArgUnclamped.lt(EXP_MIN_ARG))
                        .blend(EXP_MAX_ARG, expArgUnclamped.compare(VectorOperators.GT, EXP_MAX_ARG));
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
                IntVector expInt = expRounded.reinterpretAsInts().sub(ROUNDING_MAGIC_BITS);
                IntVector expHalf = expInt.lanewise(VectorOperators.ASHR, 1);
                FloatVector expScale1 = expHalf.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector expScale2 = expInt.sub(expHalf).add(127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector e = expPoly.mul(expScale1).mul(expScale2);
                FloatVector viaExp = FloatVector.broadcast(FLOATS, 1f)
                        .sub(FloatVector.broadcast(FLOATS, 2f).div(e.add(1f)));
                result = viaExp.blend(viaExp.neg(), v.compare(VectorOperators.LT, 0f)).blend(result, small);
            }
            result.intoMemorySegment(x, p, ORDER);
        }
        scalarTail(x, end, offset + 4 * count, Math::tanh);
    }


    /** {@code x = max(x, 0)}, but NaN stays NaN as in torch.relu. */
    static void relu(MemorySegment x, long offset, long count) {
        long end = offset + 4 * (count - count % LANES);
        for (long p = offset; p < end; p += 4L * LANES) {
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, p, ORDER);
            v.blend(FloatVector.zero(FLOATS), v.compare(VectorOperators.LT, 0f)).intoMemorySegment(x, p, ORDER);
        }
        scalarTail(x, end, offset + 4 * count, v -> v < 0 ? 0 : v);
    }

    /** The elements in bytes {@code [from, to)} through the double function {@code f}. */
    private static void scalarTail(MemorySegment x, long from, long to, DoubleUnaryOperator f) {
        for (long p = from; p < to; p += 4) {
            x.set(FLOAT, p, (float) f.applyAsDouble(x.get(FLOAT, p)));
        }
    }


}
