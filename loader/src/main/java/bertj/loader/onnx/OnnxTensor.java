package bertj.loader.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A {@code TensorProto}: name, element type, dims and the little-endian element bytes (a zero-copy
 * slice of the source when the file uses {@code raw_data} or packed {@code float_data}).
 */
public record OnnxTensor(String name, OnnxDataType dataType, long[] dims, MemorySegment data) {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d; // dims were checked to be non-negative with a product that fits the data
        return n;
    }

    public float[] toFloatArray() {
        requireType(OnnxDataType.FLOAT);
        return data.toArray(F32);
    }

    /** Integer elements widened to long (INT64, INT32, and the smaller signed integer types). */
    public long[] toLongArray() {
        int n = Math.toIntExact(elementCount());
        long[] out = new long[n];
        switch (dataType) {
            case INT64 -> { for (int i = 0; i < n; i++) out[i] = data.getAtIndex(I64, i); }
            case INT32 -> { for (int i = 0; i < n; i++) out[i] = data.getAtIndex(I32, i); }
            case INT16 -> { for (int i = 0; i < n; i++) out[i] = data.getAtIndex(I16, i); }
            case INT8 -> { for (int i = 0; i < n; i++) out[i] = data.get(ValueLayout.JAVA_BYTE, i); }
            default -> throw new OnnxFormatException("tensor '" + name + "' is " + dataType + ", not a signed integer type");
        }
        return out;
    }

    /** The single value of a scalar or one-element tensor, as a double (FLOAT, DOUBLE or integer types). */
    public double scalar() {
        if (elementCount() != 1) {
            throw new OnnxFormatException("tensor '" + name + "' has shape " + Arrays.toString(dims) + ", expected a single value");
        }
        return switch (dataType) {
            case FLOAT -> data.get(F32, 0);
            case DOUBLE -> data.get(F64, 0);
            default -> toLongArray()[0];
        };
    }

    private void requireType(OnnxDataType expected) {
        if (dataType != expected) throw new OnnxFormatException("tensor '" + name + "' is " + dataType + ", expected " + expected);
    }

    @Override
    public String toString() {
        return name + " " + dataType + Arrays.toString(dims);
    }
}
