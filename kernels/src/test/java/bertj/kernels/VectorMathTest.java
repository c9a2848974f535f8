package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ScalarMath;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The vector exp against the reference ScalarMath.exp (Math.exp): within 2 ulp of the float result, subnormals within 2 of their ulps. */
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
}
