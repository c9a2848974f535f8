package bertj.kernels.reference;

import bertj.kernels.Precision;

/**
 * How weights are rounded to a reduced precision and widened back to float32, one value at a time: the
 * definition the packing ({@code PackedLinear}) and every widening kernel follow, and the scalar twin the
 * tests compare them with.
 *
 * <ul>
 *   <li>bfloat16: the upper 16 bits of the float32, rounded to nearest, ties to even; a NaN stays a NaN.
 *       Widening puts the 16 bits back on top of 16 zero bits, exactly.
 *   <li>int8: symmetric, per output channel: {@code scale = max|w| / 127} over the channel's weights, {@code
 *       q = round(w / scale)} (ties to even) in [-127, 127], widened as {@code q * scale} in float32. A channel
 *       of zeros has scale 0. A channel with a weight that is not finite cannot be quantized.
 *   <li>float16: IEEE binary16, rounded to nearest, ties to even ({@link Float#floatToFloat16}); a finite weight
 *       beyond its range (65504) cannot be stored. Widening is exact ({@link Float#float16ToFloat}).
 * </ul>
 */
public final class WeightRounding {
    private WeightRounding() {}

    /** The bfloat16 nearest to {@code value} (ties to even), as its 16 bits. */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040); // a quiet NaN of the same sign, never rounded to infinity
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The float32 with these bfloat16 bits: exact. */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** The float16 nearest to {@code value} (ties to even), as its 16 bits. */
    public static short toF16(float value) {
        short bits = Float.floatToFloat16(value);
        if (Float.isFinite(value) && Float.isInfinite(Float.float16ToFloat(bits))) {
            throw new IllegalArgumentException("the weight " + value + " is beyond float16's range (65504): store it as fp32 or bf16");
        }
        return bits;
    }

    /** The float32 with these float16 bits: exact. */
    public static float fromF16(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** The int8 scale of a channel whose largest magnitude is {@code maxAbs}. */
    public static float int8Scale(float maxAbs) {
        return maxAbs / 127f;
    }

    /**
     * The int8 scale of the channel {@code values[from .. to)}; not finite when one of its weights is not (NaN and
     * infinity carry through the maximum), which callers report: such a channel cannot be quantized.
     */
    public static float int8Scale(float[] values, int from, int to) {
        float maxAbs = 0;
        for (int i = from; i < to; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
        return int8Scale(maxAbs);
    }

    /** {@code round(value / scale)} in [-127, 127]; 0 for a channel of zeros (scale 0). */
    public static byte toInt8(float value, float scale) {
        if (scale == 0f) {
            return 0;
        }
        float q = (float) Math.rint(value / scale);
        return (byte) Math.max(-127f, Math.min(127f, q));
    }

    /** The float32 an int8 weight stands for: {@code q * scale}, one rounding. */
    public static float fromInt8(byte q, float scale) {
        return q * scale;
    }

    /** {@code value} after a round trip through {@code precision} (int8 with the channel's scale). */
    public static float roundTrip(Precision precision, float value, float int8Scale) {
        return switch (precision) {
            case FP32 -> value;
            case BF16 -> fromBf16(toBf16(value));
            case INT8 -> fromInt8(toInt8(value, int8Scale), int8Scale);
            case F16 -> fromF16(toF16(value));
        };
    }
}
