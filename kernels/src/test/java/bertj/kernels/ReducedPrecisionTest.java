package bertj.kernels;

import static bertj.kernels.TestData.F;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.reference.WeightRounding;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Weights packed in bfloat16 and int8: the rounding as {@link WeightRounding} defines it, the vector widening
 * against its scalar twin ({@link PackedLinear#sliceAsFloats}), and the Linear on reduced-precision weights
 * against the float32 Linear on the same weights rounded beforehand. The last two must agree bit for bit: the
 * tiles see the same floats.
 */
class ReducedPrecisionTest {
    private static ThreadPool single;
    private static ThreadPool two;

    @BeforeAll
    static void pools() {
        single = new ThreadPool(1);
        two = new ThreadPool(2);
    }

    @AfterAll
    static void closePools() {
        single.close();
        two.close();
    }

    @Test
    void bf16RoundsToNearestWithTiesToEven() {
        assertEquals((short) 0x3F80, WeightRounding.toBf16(1f));
        assertEquals((short) 0x3F80, WeightRounding.toBf16(1f + 0x1p-8f)); // a tie: to the even 1.0
        assertEquals((short) 0x3F82, WeightRounding.toBf16(1f + 3 * 0x1p-8f)); // a tie: to the even 1 + 2^-6
        assertEquals((short) 0x3F81, WeightRounding.toBf16(1f + 0x1p-8f + 0x1p-20f)); // above the tie
        assertEquals((short) 0xBF80, WeightRounding.toBf16(-1f));
        assertEquals((short) 0x7F80, WeightRounding.toBf16(Float.MAX_VALUE)); // rounds up to infinity
        assertTrue(Float.isNaN(WeightRounding.fromBf16(WeightRounding.toBf16(Float.NaN))));
        assertTrue(Float.isNaN(WeightRounding.fromBf16(WeightRounding.toBf16(Float.intBitsToFloat(0x7F800001)))));
        Random random = new Random(7);
        for (int i = 0; i < 100_000; i++) {
            float value = Float.intBitsToFloat(random.nextInt());
            if (!Float.isFinite(value) || Math.abs(value) > 0x1.fefffep127f) {
                continue;
            }
            float rounded = WeightRounding.fromBf16(WeightRounding.toBf16(value));
            // The nearest bfloat16: no other bfloat16 value (the neighbours of the result) is closer.
            short bits = WeightRounding.toBf16(value);
            double error = Math.abs((double) rounded - value);
            for (int step : new int[] {-1, 1}) {
                float neighbour = WeightRounding.fromBf16((short) (bits + step));
                if (Float.isFinite(neighbour) && Math.signum(neighbour) == Math.signum(rounded)) {
                    double other = Math.abs((double) neighbour - value);
                    assertTrue(error < other || (error == other && (bits & 1) == 0),
                            () -> value + " rounded to " + rounded + ", but " + neighbour + " is as near");
                }
            }
        }
    }

    @Test
    void int8KeepsEachChannelsLargestWeightAndHalfAStep() {
        Random random = new Random(3);
        float[] row = new float[257];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) random.nextGaussian() * 0.05f;
        }
        row[100] = -0.4f;
        float scale = WeightRounding.int8Scale(0.4f);
        assertEquals(-127, WeightRounding.toInt8(row[100], scale));
        for (float w : row) {
            byte q = WeightRounding.toInt8(w, scale);
            assertTrue(q >= -127 && q <= 127);
            assertTrue(Math.abs(WeightRounding.fromInt8(q, scale) - w) <= scale / 2 * (1 + 1e-6f), () -> "weight " + w);
        }
        assertEquals(0, WeightRounding.toInt8(0.3f, 0f)); // a channel of zeros
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"INT8", "F16"})
    void theWideningIsItsScalarTwin(Precision precision) {
        int[][] shapes = {{1, 1}, {17, 3}, {33, 31}, {65, 257}, {40, 3073}, {31, 6145}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] shape : shapes) {
                int n = shape[0], k = shape[1];
                Random random = new Random(n * 31L + k);
                MemorySegment weight = TestData.uniform(arena, random, (long) n * k, -2f, 2f);
                PackedLinear packed = PackedLinear.pack(new MemorySegment[] {weight}, null, k, arena, null, precision);
                MemorySegment wide = arena.allocate(4L * Tuning.K_BLOCK * Tuning.PANEL_WIDTH, 64);
                float[] twin = new float[Tuning.K_BLOCK * Tuning.PANEL_WIDTH];
                for (int k0 = 0; k0 < k; k0 += Tuning.K_BLOCK) {
                    int count = Math.min(Tuning.K_BLOCK, k - k0) * Tuning.PANEL_WIDTH;
                    for (int p = 0; p < packed.panels(); p++) {
                        WeightWidening.widen(packed, k0, p, wide);
                        packed.sliceAsFloats(k0, p, twin);
                        float[] vector = new float[count];
                        MemorySegment.copy(wide, F, 0, vector, 0, count);
                        float[] expected = java.util.Arrays.copyOf(twin, count);
                        assertArrayEquals(expected, vector, precision + " n=" + n + " k=" + k + " k0=" + k0 + " p=" + p);
                    }
                }
            }
        }
    }

    /** Every float16 value, subnormals, infinities and NaNs (with their payloads) included, widened bit for bit as {@link Float#float16ToFloat}. */
    @Test
    void theF16WideningTakesEveryValueAsFloat16ToFloat() {
        int n = 256, k = 256;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weight = TestData.zeros(arena, (long) n * k);
            for (int h = 0; h < n * k; h++) weight.setAtIndex(F, h, Float.float16ToFloat((short) h));
            PackedLinear packed = PackedLinear.pack(new MemorySegment[] {weight}, null, k, arena, null, Precision.F16);
            MemorySegment wide = arena.allocate(4L * Tuning.K_BLOCK * Tuning.PANEL_WIDTH, 64);
            float[] twin = new float[Tuning.K_BLOCK * Tuning.PANEL_WIDTH];
            for (int k0 = 0; k0 < k; k0 += Tuning.K_BLOCK) {
                int kLen = Math.min(Tuning.K_BLOCK, k - k0);
                for (int p = 0; p < packed.panels(); p++) {
                    WeightWidening.widen(packed, k0, p, wide);
                    packed.sliceAsFloats(k0, p, twin);
                    for (int i = 0; i < kLen * Tuning.PANEL_WIDTH; i++) {
                        int row = p * Tuning.PANEL_WIDTH + i % Tuning.PANEL_WIDTH, col = k0 + i / Tuning.PANEL_WIDTH;
                        int expected = Float.floatToRawIntBits(Float.float16ToFloat((short) (row * k + col)));
                        assertEquals(expected, Float.floatToRawIntBits(twin[i]), "twin, float16 bits " + (row * k + col));
                        assertEquals(expected, Float.floatToRawIntBits(wide.getAtIndex(F, i)), "widening, float16 bits " + (row * k + col));
                    }
                }
            }
        }
    }

    @Test
    void f16RefusesAWeightBeyondItsRange() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weight = TestData.uniform(arena, new Random(2), 4L * 8, -1f, 1f);
            weight.setAtIndex(F, 9, 70000f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackedLinear.pack(
                    new MemorySegment[] {weight}, null, 8, arena, null, Precision.F16));
            assertTrue(e.getMessage().contains("the weight 70000.0 is beyond float16's range (65504)"), e.getMessage());
        }
        assertEquals(65504f, WeightRounding.fromF16(WeightRounding.toF16(65519f)), "rounds down to the largest float16");
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"BF16", "INT8", "F16"})
    void theLinearOnReducedWeightsIsTheFloatLinearOnTheRoundedWeights(Precision precision) {
        int[][] shapes = {{1, 37, 19}, {3, 64, 33}, {8, 385, 97}, {9, 384, 1152}, {20, 1536, 384}, {48, 384, 70},
                {130, 3073, 40}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] shape : shapes) {
                int m = shape[0], k = shape[1], n = shape[2];
                Random random = new Random(m * 1000L + k * 7L + n);
                MemorySegment x = TestData.uniform(arena, random, (long) m * k, -1f, 1f);
                MemorySegment weight = TestData.uniform(arena, random, (long) n * k, -0.2f, 0.2f);
                MemorySegment bias = TestData.uniform(arena, random, n, -0.5f, 0.5f);
                MemorySegment rounded = rounded(arena, weight, n, k, precision);
                PackedLinear reduced = PackedLinear.pack(new MemorySegment[] {weight}, new MemorySegment[] {bias}, k,
                        arena, two, precision);
                PackedLinear asFloats = PackedLinear.pack(new MemorySegment[] {rounded}, new MemorySegment[] {bias}, k,
                        arena, two, Precision.FP32);
                PackedLinear reloaded = PackedLinear.ofPacked(TestData.copy(arena, reduced.packedData()), k,
                        new int[] {n}, new MemorySegment[] {bias}, precision);
                String where = precision + " m=" + m + " k=" + k + " n=" + n;
                float[] expected = run(arena, single, x, m, asFloats, false);
                assertArrayEquals(expected, run(arena, single, x, m, reduced, false), where + " 1 thread");
                assertArrayEquals(expected, run(arena, two, x, m, reduced, false), where + " 2 threads");
                assertArrayEquals(expected, run(arena, two, x, m, reloaded, false), where + " from packed data");
                assertArrayEquals(expected, run(arena, two, x, m, reduced, true), where + " SIMD twin");
            }
        }
    }

    @Test
    void int8NamesTheRowOfAWeightThatIsNotFinite() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weight = TestData.uniform(arena, new Random(1), 5L * 8, -1f, 1f);
            weight.setAtIndex(F, 3L * 8 + 2, Float.NaN);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackedLinear.pack(
                    new MemorySegment[] {weight}, null, 8, arena, null, Precision.INT8));
            assertTrue(e.getMessage().contains("weight row 3"), e.getMessage());
        }
    }

    @Test
    void parsesThePrecisionNames() {
        assertEquals(Precision.BF16, Precision.parse("bf16"));
        assertEquals(Precision.INT8, Precision.parse("INT8"));
        assertEquals(Precision.F16, Precision.parse("f16"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("fp32, bf16, int8 or f16"), e.getMessage());
    }

    /** The weights after a round trip through the precision, as float32 ({@link WeightRounding}). */
    private static MemorySegment rounded(Arena arena, MemorySegment weight, int n, int k, Precision precision) {
        MemorySegment out = TestData.zeros(arena, (long) n * k);
        for (int r = 0; r < n; r++) {
            float maxAbs = 0;
            for (int c = 0; c < k; c++) {
                maxAbs = Math.max(maxAbs, Math.abs(weight.getAtIndex(F, (long) r * k + c)));
            }
            float scale = WeightRounding.int8Scale(maxAbs);
            for (int c = 0; c < k; c++) {
                long i = (long) r * k + c;
                out.setAtIndex(F, i, WeightRounding.roundTrip(precision, weight.getAtIndex(F, i), scale));
            }
        }
        return out;
    }

    private static float[] run(Arena arena, ThreadPool pool, MemorySegment x, int m, PackedLinear w, boolean twin) {
        MemorySegment y = TestData.zeros(arena, (long) m * w.n());
        if (twin) {
            SimdTwins.linear(pool, x, m, w, y, Activation.NONE);
        } else {
            Linear.forward(pool, x, m, w, y, Activation.NONE);
        }
        return y.toArray(F);
    }
}
