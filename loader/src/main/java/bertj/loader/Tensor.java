package bertj.loader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named, typed, shaped view of little-endian tensor bytes, as safetensors stores them.
 *
 * <p>Tensors read from a file are zero-copy, read-only slices of the mapped file and are valid until the
 * file (or checkpoint) is closed; after that any access to {@link #data()} throws
 * {@link IllegalStateException}. The bytes may sit at any address: safetensors does not promise alignment,
 * so everything here reads with unaligned little-endian layouts, and {@link #toF32} hands kernels an
 * aligned, native-order copy only when the stored bytes are not usable as they are.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Alignment of the segments {@link #toF32} allocates: one cache line, so vector loads never split one. */
    private static final long WIDENED_ALIGNMENT = 64;
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long elementCount;
    private final MemorySegment data;

    /** Same as {@link #of}. */
    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        Objects.requireNonNull(data, "data");
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.elementCount = elementCount(name, this.shape);
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(elementCount, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor \"" + name + "\": byte size of shape " + Arrays.toString(shape)
                    + " overflows a long");
        }
        if (data.byteSize() != expectedBytes) {
            throw new IllegalArgumentException("tensor \"" + name + "\": " + dtype + " " + Arrays.toString(shape)
                    + " needs " + expectedBytes + " bytes, data has " + data.byteSize());
        }
        this.data = data.asReadOnly();
    }

    /**
     * Wraps existing little-endian bytes (no copy). Used by the reader and by code that builds tensors to write.
     *
     * @throws IllegalArgumentException if a dimension is negative or the data size is not
     *         product(shape) x dtype size
     */
    public static Tensor of(String name, DType dtype, long[] shape, MemorySegment data) {
        return new Tensor(name, dtype, shape, data);
    }

    /** An in-memory F32 tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(String name, long[] shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new float[values.length]);
        MemorySegment.copy(values, 0, seg, F32_LE, 0, values.length);
        return of(name, DType.F32, shape, seg);
    }

    /** An in-memory I64 tensor holding a copy of {@code values}. */
    public static Tensor ofLongs(String name, long[] shape, long[] values) {
        MemorySegment seg = MemorySegment.ofArray(new long[values.length]);
        MemorySegment.copy(values, 0, seg, I64_LE, 0, values.length);
        return of(name, DType.I64, shape, seg);
    }

    /** An in-memory I32 tensor holding a copy of {@code values}. */
    public static Tensor ofInts(String name, long[] shape, int[] values) {
        MemorySegment seg = MemorySegment.ofArray(new int[values.length]);
        MemorySegment.copy(values, 0, seg, I32_LE, 0, values.length);
        return of(name, DType.I32, shape, seg);
    }

    /** An in-memory F16 or BF16 tensor from raw 16-bit patterns (no rounding is done here). */
    public static Tensor ofHalfBits(String name, DType dtype, long[] shape, short[] bits) {
        if (dtype.byteSize() != 2 || !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("ofHalfBits takes F16 or BF16, not " + dtype);
        }
        MemorySegment seg = MemorySegment.ofArray(new short[bits.length]);
        MemorySegment.copy(bits, 0, seg, I16_LE, 0, bits.length);
        return of(name, dtype, shape, seg);
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    /** Product of the dimensions (1 for a scalar, 0 when a dimension is 0). */
    public long elementCount() {
        return elementCount;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** The raw little-endian bytes, read-only; for a tensor from a file, a slice of the mapping. */
    public MemorySegment data() {
        return data;
    }

    /**
     * The values as F32 in native byte order, in a segment aligned for {@link ValueLayout#JAVA_FLOAT}.
     * Zero-copy ({@link #data()} itself) when the tensor is F32, the host is little-endian and the bytes are
     * 4-byte aligned, which is the case for files written by the safetensors library. Otherwise the values
     * are widened or copied into a new segment allocated in {@code arena}, which the caller owns.
     *
     * @throws IllegalStateException for integer dtypes
     */
    public MemorySegment toF32(Arena arena) {
        if (dtype == DType.F32 && NATIVE_LITTLE_ENDIAN && data.maxByteAlignment() >= Float.BYTES) {
            return data;
        }
        requireFloatingPoint("toF32");
        MemorySegment out = arena.allocate(elementCount * Float.BYTES, WIDENED_ALIGNMENT);
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, 0, out, ValueLayout.JAVA_FLOAT, 0, elementCount);
            case BF16 -> {
                for (long i = 0; i < elementCount; i++) {
                    out.setAtIndex(ValueLayout.JAVA_FLOAT, i, bf16ToFloat(data.get(I16_LE, 2 * i)));
                }
            }
            case F16 -> {
                for (long i = 0; i < elementCount; i++) {
                    out.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(data.get(I16_LE, 2 * i)));
                }
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /** The values widened to a {@code float[]}; meant for small tensors and tests. */
    public float[] toFloatArray() {
        requireFloatingPoint("toFloatArray");
        float[] out = new float[arrayLength()];
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = bf16ToFloat(data.get(I16_LE, 2L * i));
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(data.get(I16_LE, 2L * i));
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * An I8 tensor of shape {@code [rows, cols]} as F32, row r times {@code scales[r]} (one float multiply per
     * value), in a new segment allocated in {@code arena}.
     */
    public MemorySegment dequantizeInt8(float[] scales, Arena arena) {
        if (dtype != DType.I8 || shape.length != 2 || shape[0] != scales.length) {
            throw new IllegalStateException("tensor \"" + name + "\" is " + dtype + " " + Arrays.toString(shape)
                    + "; dequantizeInt8 reads an I8 [rows, cols] tensor with one scale per row (" + scales.length + ")");
        }
        long cols = shape[1];
        MemorySegment out = arena.allocate(elementCount * Float.BYTES, WIDENED_ALIGNMENT);
        for (long i = 0; i < elementCount; i++) {
            out.setAtIndex(ValueLayout.JAVA_FLOAT, i, data.get(ValueLayout.JAVA_BYTE, i) * scales[(int) (i / cols)]);
        }
        return out;
    }

    /** The values of an I64 or I32 tensor as a {@code long[]}; meant for small tensors and tests. */
    public long[] toLongArray() {
        long[] out = new long[arrayLength()];
        switch (dtype) {
            case I64 -> MemorySegment.copy(data, I64_LE, 0, out, 0, out.length);
            case I32 -> {
                for (int i = 0; i < out.length; i++) out[i] = data.get(I32_LE, 4L * i);
            }
            default -> throw new IllegalStateException("tensor \"" + name + "\" is " + dtype
                    + "; toLongArray reads I64 and I32 tensors");
        }
        return out;
    }

    /**
     * BF16 is the upper half of an IEEE binary32, so widening is a shift:
     * <pre>
     *   bf16:  s eeeeeeee mmmmmmm
     *   f32:   s eeeeeeee mmmmmmm 0000000000000000
     * </pre>
     */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    private void requireFloatingPoint(String operation) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalStateException("tensor \"" + name + "\" is " + dtype + "; " + operation
                    + " reads F32, F16 and BF16 tensors");
        }
    }

    private int arrayLength() {
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor \"" + name + "\" has " + elementCount
                    + " elements, too many for a Java array; use data() or toF32(arena)");
        }
        return (int) elementCount;
    }

    private static long elementCount(String name, long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor \"" + name + "\": negative dimension in shape "
                        + Arrays.toString(shape));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor \"" + name + "\": element count of shape "
                        + Arrays.toString(shape) + " overflows a long");
            }
        }
        return count;
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + "]";
    }
}
