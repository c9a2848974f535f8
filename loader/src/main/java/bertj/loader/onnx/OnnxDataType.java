package bertj.loader.onnx;

/** {@code TensorProto.DataType}: the element types, with their byte size (0 for types without a fixed size). */
public enum OnnxDataType {
    UNDEFINED(0, 0), FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), UINT16(4, 2), INT16(5, 2), INT32(6, 4), INT64(7, 8),
    STRING(8, 0), BOOL(9, 1), FLOAT16(10, 2), DOUBLE(11, 8), UINT32(12, 4), UINT64(13, 8),
    COMPLEX64(14, 8), COMPLEX128(15, 16), BFLOAT16(16, 2);

    private final int code;
    private final int byteSize;

    OnnxDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    public int code() {
        return code;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The type for a wire code, or null when the code is not one of the types above (newer float8/int4 types). */
    static OnnxDataType ofCode(int code) {
        for (OnnxDataType t : values()) if (t.code == code) return t;
        return null;
    }
}
