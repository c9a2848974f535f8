package bertj.loader.onnx;

import bertj.loader.TextFiles;
import java.io.ByteArrayOutputStream;

/**
 * Encodes one small protobuf message into memory: fields are appended in the order written. Large payloads
 * (tensor bytes) never pass through here; {@link OnnxModelWriter} streams them and only needs their sizes,
 * which {@link #tagSize} and {@link #varintSize} give.
 */
final class ProtoWriter {
    static final int VARINT = 0;
    static final int FIXED32 = 5;
    static final int LENGTH_DELIMITED = 2;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter int64(int field, long value) {
        tag(field, VARINT);
        varint(value);
        return this;
    }

    ProtoWriter float32(int field, float value) {
        tag(field, FIXED32);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
        return this;
    }

    /** A string field in UTF-8; one that UTF-8 cannot hold (a lone surrogate) is refused, never written with a '?'. */
    ProtoWriter string(int field, String value) {
        return bytes(field, TextFiles.utf8(value, "protobuf string field " + field));
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        varint(value.length);
        out.writeBytes(value);
        return this;
    }

    ProtoWriter message(int field, ProtoWriter message) {
        return bytes(field, message.toByteArray());
    }

    /** The header of a length-delimited field whose {@code length} payload bytes the caller writes next. */
    ProtoWriter lengthDelimitedHeader(int field, long length) {
        tag(field, LENGTH_DELIMITED);
        varint(length);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        varint(((long) field << 3) | wireType);
    }

    /** Base-128, least significant group first; negative int64 values take the full ten bytes. */
    private void varint(long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }

    static int varintSize(long value) {
        int size = 1;
        while ((value & ~0x7FL) != 0) {
            size++;
            value >>>= 7;
        }
        return size;
    }

    /** Bytes taken by a length-delimited field's tag and length prefix. */
    static int lengthDelimitedHeaderSize(int field, long length) {
        return tagSize(field) + varintSize(length);
    }

    static int tagSize(int field) {
        return varintSize((long) field << 3);
    }
}
