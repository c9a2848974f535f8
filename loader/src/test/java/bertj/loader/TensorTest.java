package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorTest {

    /** An independent IEEE 754 binary16 decoder: the definition Float.float16ToFloat must agree with. */
    private static double f16Reference(int bits) {
        int sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
        double magnitude;
        if (exponent == 0) magnitude = mantissa * Math.pow(2, -24);                 // zero and subnormals
        else if (exponent == 31) magnitude = mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else magnitude = (1 + mantissa / 1024.0) * Math.pow(2, exponent - 15);
        return sign == 1 ? -magnitude : magnitude;
    }

    private static short[] allPatterns() {
        short[] bits = new short[65536];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) i;
        return bits;
    }

    @Test
    void bf16WidensByShiftingIntoTheHighHalfForEveryPattern() {
        Tensor t = Tensor.ofHalfBits("w", DType.BF16, new long[] {256, 256}, allPatterns());
        float[] values = t.toFloatArray();
        for (int i = 0; i < 65536; i++) {
            float expected = Float.intBitsToFloat(i << 16);
            if (Float.isNaN(expected)) assertTrue(Float.isNaN(values[i]), "pattern " + i);
            else assertEquals(i << 16, Float.floatToRawIntBits(values[i]), "pattern " + Integer.toHexString(i));
        }
    }

    @Test
    void f16WidensExactlyForEveryPatternIncludingSubnormalsInfinitiesAndNaN() {
        Tensor t = Tensor.ofHalfBits("w", DType.F16, new long[] {65536}, allPatterns());
        float[] values = t.toFloatArray();
        for (int i = 0; i < 65536; i++) {
            double expected = f16Reference(i);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(values[i]), "pattern " + Integer.toHexString(i));
            } else {
                // every binary16 value is exactly representable in binary32, so no tolerance
                assertEquals(expected, values[i], 0.0, "pattern " + Integer.toHexString(i));
                assertEquals(i >> 15 == 1, (Float.floatToRawIntBits(values[i]) >>> 31) == 1, "sign of " + i);
            }
        }
        assertEquals(0x1p-24f, values[0x0001]);                 // smallest subnormal
        assertEquals(0x3FFp-24f, values[0x03FF]);               // largest subnormal
        assertEquals(0x1p-14f, values[0x0400]);                 // smallest normal
        assertEquals(65504f, values[0x7BFF]);                   // largest finite
        assertEquals(Float.POSITIVE_INFINITY, values[0x7C00]);
        assertEquals(Float.NEGATIVE_INFINITY, values[0xFC00]);
        assertTrue(Float.isNaN(values[0x7E00]));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(values[0x8000]));
    }

    @Test
    void toF32WidensHalfTypesIntoAnAlignedNativeSegment() {
        short[] bits = {0x3C00, (short) 0xC000, 0x0001, 0x7BFF};          // 1, -2, 2^-24, 65504 in F16
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = Tensor.ofHalfBits("h", DType.F16, new long[] {2, 2}, bits).toF32(arena);
            assertEquals(16, f.byteSize());
            assertEquals(0, f.address() % 64);
            assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, 65504f}, f.toArray(ValueLayout.JAVA_FLOAT));

            short[] bf = {0x3F80, (short) 0xC000, 0x7F80};                 // 1, -2, +inf in BF16
            MemorySegment b = Tensor.ofHalfBits("b", DType.BF16, new long[] {3}, bf).toF32(arena);
            assertArrayEquals(new float[] {1f, -2f, Float.POSITIVE_INFINITY}, b.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void toF32IsZeroCopyForAlignedF32() {
        Tensor t = Tensor.ofFloats("w", new long[] {3}, new float[] {1, 2, 3});
        try (Arena arena = Arena.ofConfined()) {
            assertSame(t.data(), t.toF32(arena));
        }
    }

    @Test
    void toF32CopiesF32BytesThatAreNotFourByteAligned() {
        // 3 floats starting at byte 1 of a byte[]: readable little-endian, but not as aligned JAVA_FLOAT
        MemorySegment bytes = MemorySegment.ofArray(new byte[13]);
        float[] values = {1.5f, -0.25f, 1e-30f};
        for (int i = 0; i < 3; i++) bytes.set(Tensor.F32_LE, 1 + 4L * i, values[i]);
        Tensor t = Tensor.of("odd", DType.F32, new long[] {3}, bytes.asSlice(1));
        assertArrayEquals(values, t.toFloatArray());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = t.toF32(arena);
            assertNotSame(t.data(), f);
            assertArrayEquals(values, f.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void dataIsLittleEndianRegardlessOfHost() {
        Tensor t = Tensor.ofFloats("w", new long[] {1}, new float[] {1f});
        // 1.0f = 0x3F800000, stored low byte first
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, t.data().toArray(ValueLayout.JAVA_BYTE));
        assertEquals(ByteOrder.LITTLE_ENDIAN, Tensor.F32_LE.order());
    }

    @Test
    void integerTensorsReadAsLongs() {
        assertArrayEquals(new long[] {-1, Long.MAX_VALUE, 7},
                Tensor.ofLongs("ids", new long[] {3}, new long[] {-1, Long.MAX_VALUE, 7}).toLongArray());
        assertArrayEquals(new long[] {-5, Integer.MIN_VALUE},
                Tensor.ofInts("ids", new long[] {2}, new int[] {-5, Integer.MIN_VALUE}).toLongArray());
    }

    @Test
    void conversionsRefuseTheWrongKindOfDType() {
        Tensor ids = Tensor.ofLongs("input_ids", new long[] {1}, new long[] {1});
        var e = assertThrows(IllegalStateException.class, ids::toFloatArray);
        assertTrue(e.getMessage().contains("input_ids") && e.getMessage().contains("I64"), e.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalStateException.class, () -> ids.toF32(arena));
        }
        assertThrows(IllegalStateException.class, Tensor.ofFloats("w", new long[] {1}, new float[] {1})::toLongArray);
    }

    @Test
    void shapeAndDataMustAgree() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of("w", DType.F32, new long[] {2, 3}, MemorySegment.ofArray(new byte[20])));
        assertTrue(e.getMessage().contains("\"w\"") && e.getMessage().contains("24"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.of("w", DType.F32, new long[] {-1}, MemorySegment.ofArray(new byte[0])));
    }

    @Test
    void scalarsAndEmptyTensors() {
        Tensor scalar = Tensor.ofFloats("s", new long[] {}, new float[] {4f});
        assertEquals(1, scalar.elementCount());
        assertEquals(0, scalar.rank());
        Tensor empty = Tensor.ofFloats("e", new long[] {0, 5}, new float[0]);
        assertEquals(0, empty.elementCount());
        assertEquals(0, empty.toFloatArray().length);
    }

    @Test
    void shapeIsADefensiveCopyAndDataIsReadOnly() {
        Tensor t = Tensor.ofFloats("w", new long[] {2}, new float[] {1, 2});
        t.shape()[0] = 99;
        assertArrayEquals(new long[] {2}, t.shape());
        assertTrue(t.data().isReadOnly());
    }

    @Test
    void unsupportedDTypeNamesDTypeTensorAndFile() {
        var e = assertThrows(ModelFormatException.class,
                () -> DType.fromSafetensors("F64", "w", java.nio.file.Path.of("m.safetensors")));
        assertTrue(e.getMessage().contains("F64") && e.getMessage().contains("\"w\"")
                && e.getMessage().contains("m.safetensors"), e.getMessage());
        assertEquals(DType.BF16, DType.fromSafetensors("BF16"));
    }
}
