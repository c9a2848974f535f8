package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ReferenceKernels;
import bertj.kernels.reference.ScalarMath;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** erf/erfc in double against 20-digit references, and every vector activation against its scalar twin. */
class ActivationsTest {
    /** {x, erf(x), erfc(x)} computed with mpmath at 30 digits. */
    private static final double[][] REFERENCE = {
        {0.0, 0.0, 1.0},
        {1e-300, 1.1283791670955126022e-300, 1.0},
        {1e-20, 1.128379167095512512e-20, 0.99999999999999999999},
        {1e-08, 1.1283791670955125599e-8, 0.99999998871620832904},
        {0.0001, 0.00011283791633342487489, 0.99988716208366657513},
        {0.001, 0.0011283787909692364034, 0.9988716212090307636},
        {0.01, 0.011283415555849617151, 0.98871658444415038285},
        {0.1, 0.1124629160182848984, 0.8875370839817151016},
        {0.2, 0.22270258921047846618, 0.77729741078952153382},
        {0.3, 0.32862675945912741619, 0.67137324054087258381},
        {0.4, 0.42839235504666847645, 0.57160764495333152355},
        {0.47, 0.49374505088608211241, 0.50625494911391788759},
        {0.5, 0.52049987781304653768, 0.47950012218695346232},
        {0.6, 0.60385609084792590508, 0.39614390915207409492},
        {0.7, 0.67780119383741844228, 0.32219880616258155772},
        {0.8, 0.74210096470766051259, 0.25789903529233948741},
        {0.84375, 0.76722566123234163346, 0.23277433876765836654},
        {0.9, 0.79690821242283213966, 0.20309178757716786034},
        {1.0, 0.84270079294971486934, 0.15729920705028513066},
        {1.1, 0.88020506957408172966, 0.11979493042591827034},
        {1.25, 0.92290012825645823014, 0.077099871743541769863},
        {1.5, 0.96610514647531072707, 0.033894853524689272933},
        {1.75, 0.98667167121918244377, 0.013328328780817556228},
        {2.0, 0.99532226501895273416, 0.0046777349810472658379},
        {2.2, 0.99813715370201811014, 0.0018628462979818898586},
        {2.4, 0.99931148610335492111, 0.00068851389664507888555},
        {2.5, 0.99959304798255504106, 0.00040695201744495893956},
        {2.6, 0.99976396558347065091, 0.00023603441652934908781},
        {2.857, 0.99994664173991315363, 0.000053358260086846371124},
        {3.0, 0.99997790950300141456, 0.000022090496998585441373},
        {3.3, 0.99999694229020356183, 3.0577097964381651988e-6},
        {3.5, 0.99999925690162765859, 7.4309837234141274552e-7},
        {4.0, 0.99999998458274209972, 1.5417257900280018852e-8},
        {4.5, 0.99999999980338395585, 1.9661604415428874763e-10},
        {5.0, 0.99999999999846254021, 1.5374597944280348502e-12},
        {5.5, 0.99999999999999264215, 7.3578479179743980631e-15},
        {5.9, 0.9999999999999999281, 7.1904097835504777249e-17},
        {6.0, 0.99999999999999997848, 2.1519736712498913117e-17},
        {6.5, 0.99999999999999999996, 3.8421483271206474699e-20},
        {7.0, 1.0, 4.1838256077794143986e-23},
        {8.0, 1.0, 1.122429717298292708e-29},
        {10.0, 1.0, 2.088487583762544757e-45},
        {15.0, 1.0, 7.2129941724512066666e-100},
        {26.0, 1.0, 5.6631924088561428465e-296},
    };

    @Test
    void erfAndErfcMatchTheReferenceTo1e15() {
        for (double[] row : REFERENCE) {
            for (double sign : new double[] {1, -1}) {
                double x = sign * row[0];
                double erf = sign * row[1];
                assertRelative(erf, ScalarMath.erf(x), 1e-15, "erf(" + x + ")");
                double erfc = sign > 0 ? row[2] : 2 - row[2];
                double got = ScalarMath.erfc(x);
                // 1e-15 relative, and 1e-15 absolute on [0.5, 2.5) where erfc is 1 - erf.
                if (!(Math.abs(got - erfc) <= 1e-15 * erfc + (x >= 0.5 && x < 2.5 ? 1e-15 : 0))) {
                    fail("erfc(" + x + ") = " + got + ", expected " + erfc);
                }
            }
        }
        assertTrue(Double.isNaN(ScalarMath.erf(Double.NaN)));
        assertEquals(1.0, ScalarMath.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, ScalarMath.erf(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, ScalarMath.erfc(Double.POSITIVE_INFINITY));
        assertEquals(0.0, ScalarMath.erfc(30)); // 2.6e-393 underflows
        assertEquals(2.0, ScalarMath.erfc(Double.NEGATIVE_INFINITY));
    }

    @Test
    void erfIsSmoothAcrossTheSeriesToContinuedFractionSwitch() {
        // erf'(x) = 2/sqrt(pi) e^(-x^2): a finite difference across x = 2.5 must agree with it.
        double h = 1e-6;
        double slope = (ScalarMath.erf(2.5 + h) - ScalarMath.erf(2.5 - h)) / (2 * h);
        assertRelative(2 / Math.sqrt(Math.PI) * Math.exp(-6.25), slope, 1e-6, "erf' at 2.5");
    }

    @Test
    void vectorErfWithin1e6RelativeOverTheFloatRange() {
        float[] xs = floatRange(new Random(1));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = TestData.of(arena, xs);
            Activations.erf(s, xs.length);
            for (int i = 0; i < xs.length; i++) {
                double want = ScalarMath.erf(xs[i]);
                float got = TestData.get(s, i);
                if (!(Math.abs(got - want) <= 1e-6 * Math.abs(want)) && !(Double.isNaN(want) && Float.isNaN(got))) {
                    fail("erf(" + xs[i] + ") = " + got + ", expected " + want);
                }
            }
        }
    }

    /**
     * GELU (erf). Relative 1e-6, plus the rounding of exp's argument -x^2/2 in float (half an ulp of x^2/2,
     * so 6e-8 x^2/2 relative), which only matters in the far negative tail where values are below 1e-6.
     */
    @Test
    void geluErfMatchesItsScalarTwin() {
        checkAgainstScalar(Activation.GELU_ERF, (x, want) -> (1e-6 + 6e-8 * x * x / 2) * Math.abs(want));
    }

    /** GELU (tanh), computed as x / (1 + e^(-2u)): 2e-6 relative to |x| (it is x times a sigmoid). */
    @Test
    void geluTanhMatchesItsScalarTwin() {
        checkAgainstScalar(Activation.GELU_TANH, (x, want) -> 2e-6 * Math.abs(x) + 1e-30);
    }

    @Test
    void tanhMatchesItsScalarTwin() {
        checkAgainstScalar(Activation.TANH, (x, want) -> 1e-6 * Math.abs(want) + 2e-7 * Math.min(1, Math.abs(x)));
    }

    @Test
    void reluIsExact() {
        checkAgainstScalar(Activation.RELU, (x, want) -> 0);
    }

    @Test
    void activationsOfSpecialValues() {
        float[] xs = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.MIN_VALUE};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gelu = TestData.of(arena, xs);
            Activations.geluErf(gelu, xs.length);
            assertTrue(Float.isNaN(TestData.get(gelu, 0)));
            assertEquals(Float.POSITIVE_INFINITY, TestData.get(gelu, 1));
            assertEquals(0f, TestData.get(gelu, 3));
            assertEquals(Float.MAX_VALUE, TestData.get(gelu, 5));
            assertEquals(0f, TestData.get(gelu, 6), 0f); // -max/2 * erfc(huge) = -0
            MemorySegment tanh = TestData.of(arena, xs);
            Activations.tanh(tanh, xs.length);
            assertTrue(Float.isNaN(TestData.get(tanh, 0)));
            assertEquals(1f, TestData.get(tanh, 1));
            assertEquals(-1f, TestData.get(tanh, 2));
            assertEquals(Float.MIN_VALUE, TestData.get(tanh, 7));
            MemorySegment relu = TestData.of(arena, xs);
            Activations.relu(relu, xs.length);
            assertTrue(Float.isNaN(TestData.get(relu, 0)));
            assertEquals(0f, TestData.get(relu, 2));
        }
    }

    @Test
    void addBiasOnEveryTail() {
        Random random = new Random(3);
        for (int cols : new int[] {1, 3, 7, 8, 9, 17, 31, 33, 383}) {
            try (Arena arena = Arena.ofConfined()) {
                int rows = 3;
                MemorySegment x = TestData.uniform(arena, random, (long) rows * cols, -1, 1);
                MemorySegment expected = TestData.copy(arena, x);
                MemorySegment bias = TestData.uniform(arena, random, cols, -1, 1);
                Activations.addBias(x, rows, cols, bias);
                ReferenceKernels.addBias(expected, rows, cols, bias);
                for (int i = 0; i < rows * cols; i++) {
                    assertEquals(TestData.get(expected, i), TestData.get(x, i), 0f, "cols " + cols + " index " + i);
                }
            }
        }
    }

    interface Tolerance {
        double of(double x, double want);
    }

    private static void checkAgainstScalar(Activation act, Tolerance tolerance) {
        float[] xs = floatRange(new Random(act.ordinal()));
        try (Arena arena = Arena.ofConfined()) {
            // Every length 0..40 exercises every tail of the in-place loop.
            for (int length = 0; length <= 40; length++) {
                compare(arena, act, xs, length, tolerance);
            }
            compare(arena, act, xs, xs.length, tolerance);
        }
    }

    private static void compare(Arena arena, Activation act, float[] xs, int length, Tolerance tolerance) {
        MemorySegment vector = TestData.of(arena, xs);
        MemorySegment scalar = TestData.of(arena, xs);
        switch (act) {
            case GELU_ERF -> { Activations.geluErf(vector, length); ReferenceKernels.geluErf(scalar, length); }
            case GELU_TANH -> { Activations.geluTanh(vector, length); ReferenceKernels.geluTanh(scalar, length); }
            case TANH -> { Activations.tanh(vector, length); ReferenceKernels.tanh(scalar, length); }
            case RELU -> { Activations.relu(vector, length); ReferenceKernels.relu(scalar, length); }
            case NONE -> { }
        }
        for (int i = 0; i < xs.length; i++) {
            float got = TestData.get(vector, i);
            if (i >= length) {
                assertEquals(Float.floatToRawIntBits(xs[i]), Float.floatToRawIntBits(got),
                        "beyond n must be untouched");
                continue;
            }
            double want = ScalarMath.apply(act, xs[i]);
            float rounded = TestData.get(scalar, i);
            assertEquals((float) want, rounded, 0f, "scalar twin rounds the double once");
            // Results below float's normal range (1.2e-38) carry absolute, not relative, precision.
            double allowed = tolerance.of(xs[i], want) + 1e-37;
            if (Double.isNaN(want) ? !Float.isNaN(got) : !(Math.abs(got - want) <= allowed)) {
                fail(act + "(" + xs[i] + ") = " + got + ", expected " + want + " +- " + allowed);
            }
        }
    }

    /** Dense in [-12, 12], then random magnitudes over every exponent, then edge values. */
    static float[] floatRange(Random random) {
        float[] xs = new float[24_000 + 4_000 + 12];
        int i = 0;
        for (int j = 0; j < 24_000; j++) {
            xs[i++] = -12f + 24f * j / 24_000;
        }
        for (int j = 0; j < 4_000; j++) {
            float magnitude = Float.intBitsToFloat(random.nextInt(0x7f800000));
            xs[i++] = random.nextBoolean() ? magnitude : -magnitude;
        }
        float[] edges = {0f, -0f, 1f, -1f, 1.4142135f, -1.4142135f, 0.8838835f, 3.92f, -3.92f, 1e-30f, -1e-30f, 20f};
        for (float e : edges) {
            xs[i++] = e;
        }
        return xs;
    }

    static void assertRelative(double expected, double actual, double relative, String what) {
        if (!(Math.abs(expected - actual) <= relative * Math.abs(expected))) {
            fail(what + " = " + actual + ", expected " + expected + " (relative error "
                    + Math.abs(expected - actual) / Math.abs(expected) + ")");
        }
    }
}
