package bertj.loader.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds protobuf messages byte by byte, for hand-made ONNX files in tests. */
final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
        tag(field, 0);
        rawVarint(value);
        return this;
    }

    Proto float32(int field, float value) {
        tag(field, 5);
        rawBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        return this;
    }

    Proto bytes(int field, byte[] value) {
        tag(field, 2);
        rawVarint(value.length);
        rawBytes(value);
        return this;
    }

    Proto string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto message) {
        return bytes(field, message.toByteArray());
    }

    Proto packedVarints(int field, long... values) {
        Proto p = new Proto();
        for (long v : values) p.rawVarint(v);
        return bytes(field, p.toByteArray());
    }

    Proto packedFloats(int field, float... values) {
        return bytes(field, littleEndian(values));
    }

    /** Appends bytes as they are (for corrupt input). */
    Proto raw(byte... bytes) {
        rawBytes(bytes);
        return this;
    }

    Proto tag(int field, int wireType) {
        rawVarint((long) field << 3 | wireType);
        return this;
    }

    Proto rawVarint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void rawBytes(byte[] b) {
        out.write(b, 0, b.length);
    }

    static byte[] littleEndian(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    // --- onnx.proto messages ---

    /** TensorProto with raw_data. */
    static Proto tensor(String name, OnnxDataType type, long[] dims, byte[] raw) {
        Proto t = new Proto().packedVarints(1, dims).varint(2, type.code()).string(8, name);
        return raw == null ? t : t.bytes(9, raw);
    }

    static Proto floatTensor(String name, long[] dims, float... values) {
        return tensor(name, OnnxDataType.FLOAT, dims, littleEndian(values));
    }

    static Proto int64Tensor(String name, long... values) {
        return new Proto().packedVarints(1, values.length).varint(2, OnnxDataType.INT64.code()).string(8, name)
                .packedVarints(7, values);
    }

    static Proto node(String opType, String name, List<String> inputs, List<String> outputs, Proto... attributes) {
        Proto n = new Proto();
        for (String in : inputs) n.string(1, in);
        for (String out : outputs) n.string(2, out);
        n.string(3, name).string(4, opType);
        for (Proto a : attributes) n.message(5, a);
        return n;
    }

    static Proto intAttribute(String name, long value) {
        return new Proto().string(1, name).varint(3, value).varint(20, 2);
    }

    static Proto floatAttribute(String name, float value) {
        return new Proto().string(1, name).float32(2, value).varint(20, 1);
    }

    static Proto intsAttribute(String name, long... values) {
        return new Proto().string(1, name).packedVarints(8, values).varint(20, 7);
    }

    static Proto tensorAttribute(String name, Proto tensor) {
        return new Proto().string(1, name).message(5, tensor).varint(20, 4);
    }

    /** ValueInfoProto of a tensor; each dim a size (Long) or a symbolic name (String). */
    static Proto valueInfo(String name, OnnxDataType type, Object... dims) {
        Proto shape = new Proto();
        for (Object d : dims) {
            shape.message(1, d instanceof Long size ? new Proto().varint(1, size) : new Proto().string(2, (String) d));
        }
        Proto tensorType = new Proto().varint(1, type.code()).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    static Proto model(Proto graph) {
        return new Proto().varint(1, 8).string(2, "bertj-test").string(3, "1")
                .message(8, new Proto().string(1, "").varint(2, 17))
                .message(7, graph);
    }
}
