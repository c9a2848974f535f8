package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ScalarMath;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The one exp and its two variants (VectorMath.exp, expEstrin, expOfNonPositive): against the reference
 * ScalarMath.exp (Math.exp), within 2 ulp of the float result, subnormals within 2 of their ulps; and bit for
 * bit against their scalar twins in SimdTwins, which SimdTwinsTest holds bit for bit to the kernels that
 * expand them in place (GELU, tanh, erf, softmax): so each expanded copy computes its definition.
 */
class VectorMathTest {
    @Test
    void expWithinTwoUlpOfMathExp() {
        Random random = new Random(4);
        float[] xs = new float[40_000];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = i < 30_000 ? -104f + 193f * i / 30_000 : (random.nextFloat() - 0.5f) * 2 * (i % 2 == 0 ? 1 : 100);
        }
        float[] out = new float[LANES];
        for (int i = 0; i + LANES <= xs.length; i += LANES) {
            VectorMath.exp(FloatVector.fromArray(FLOATS, xs, i)).intoArray(out, 0);
            for (int l = 0; l < LANES; l++) {
                double want = ScalarMath.exp(xs[i + l]);
                float wantFloat = (float) want;
                double ulp = Math.ulp(Float.isInfinite(wantFloat) ? Float.MAX_VALUE : wantFloat);
                if (!(Math.abs(out[l] - want) <= 2 * ulp) && !(Float.isInfinite(wantFloat) && out[l] == wantFloat)) {
                    fail("exp(" + xs[i + l] + ") = " + out[l] + ", expected " + want);
                }
            }
        }
    }

    @Test
    void expOfSpecialValues() {
        float[] xs = new float[Math.max(LANES, 8)];
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -200f, 100f, 0f, -0f, 88.72f};
        System.arraycopy(special, 0, xs, 0, Math.min(special.length, xs.length));
        float[] out = new float[xs.length];
        for (int i = 0; i < xs.length; i += LANES) {
            VectorMath.exp(FloatVector.fromArray(FLOATS, xs, i)).intoArray(out, i);
        }
        assertTrue(Float.isNaN(out[0]));
        assertEquals(0f, out[1]);
        assertEquals(Float.POSITIVE_INFINITY, out[2]);
        assertEquals(0f, out[3]);
        assertEquals(Float.POSITIVE_INFINITY, out[4]);
        assertEquals(1f, out[5]);
        assertEquals(1f, out[6]);
        assertEquals((float) Math.exp(88.72f), out[7], Math.ulp((float) Math.exp(88.72f)) * 2);
    }

    /** Arguments over every range: the clamps, the whole float range in steps, random, and the special values. */
    private static float[] arguments() {
        Random random = new Random(5);
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, -200f, -104f, -103.9f,
            -88f, -87.99f, -87.33f, -1e-30f, 1e-30f, 88.72f, 88.73f, 89f, 100f, Float.MIN_VALUE, -Float.MAX_VALUE};
        int count = (60_000 + special.length + LANES - 1) / LANES * LANES;
        float[] xs = new float[count];
        System.arraycopy(special, 0, xs, 0, special.length);
        for (int i = special.length; i < count; i++) {
            xs[i] = i % 3 == 0 ? -110f + 200f * random.nextFloat() : i % 3 == 1 ? -1f + 2f * random.nextFloat()
                    : Float.intBitsToFloat(random.nextInt());
        }
        return xs;
    }

    private static void assertSameBits(UnaryOperator<FloatVector> vector, DoubleUnaryOperator twin, String name) {
        float[] xs = arguments();
        float[] out = new float[LANES];
        for (int i = 0; i < xs.length; i += LANES) {
            vector.apply(FloatVector.fromArray(FLOATS, xs, i)).intoArray(out, 0);
            for (int l = 0; l < LANES; l++) {
                float want = (float) twin.applyAsDouble(xs[i + l]);
                if (Float.floatToIntBits(out[l]) != Float.floatToIntBits(want)) { // any NaN as one
                    fail(name + "(" + xs[i + l] + ") = " + out[l] + ", its SimdTwins twin " + want);
                }
            }
        }
    }

    @Test
    void eachExpIsBitForBitItsScalarTwin() {
        assertSameBits(VectorMath::exp, x -> SimdTwins.exp((float) x), "exp");
        assertSameBits(VectorMath::expEstrin, x -> SimdTwins.expEstrin((float) x), "expEstrin");
        assertSameBits(VectorMath::expOfNonPositive, x -> SimdTwins.expOfNonPositive((float) x), "expOfNonPositive");
    }

    @Test
    void theVariantsAreWithinTwoUlpOfMathExp() {
        float[] out = new float[LANES];
        float[] xs = new float[LANES];
        for (int i = 0; i < 40_000; i += LANES) {
            for (int l = 0; l < LANES; l++) {
                xs[l] = -104f + 193f * (i + l) / 40_000;
            }
            for (boolean estrin : new boolean[] {true, false}) {
                FloatVector x = FloatVector.fromArray(FLOATS, xs, 0);
                (estrin ? VectorMath.expEstrin(x) : VectorMath.expOfNonPositive(x)).intoArray(out, 0);
                for (int l = 0; l < LANES; l++) {
                    float arg = xs[l];
                    if (!estrin && (arg > 0f || arg < -87f)) {
                        continue; // expOfNonPositive: x <= 0 only, and 0 for the subnormal results below -88
                    }
                    double want = ScalarMath.exp(arg);
                    float wantFloat = (float) want;
                    double ulp = Math.ulp(Float.isInfinite(wantFloat) ? Float.MAX_VALUE : wantFloat);
                    if (!(Math.abs(out[l] - want) <= 2 * ulp) && !(Float.isInfinite(wantFloat) && out[l] == wantFloat)) {
                        fail((estrin ? "expEstrin(" : "expOfNonPositive(") + arg + ") = " + out[l] + ", expected " + want);
                    }
                }
            }
        }
        FloatVector below = FloatVector.broadcast(FLOATS, -100f);
        assertEquals(0f, VectorMath.expOfNonPositive(below).lane(0));
        assertTrue(Float.isNaN(VectorMath.expOfNonPositive(FloatVector.broadcast(FLOATS, Float.NaN)).lane(0)));
    }
}
