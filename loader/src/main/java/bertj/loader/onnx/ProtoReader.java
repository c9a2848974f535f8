package bertj.loader.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over one protobuf message in wire format
 * (<a href="https://protobuf.dev/programming-guides/encoding/">encoding spec</a>).
 *
 * <p>Every length read from the data is checked against the bytes that remain before it is used, so a
 * truncated or corrupt message gives an {@link OnnxFormatException} naming the source and the offset,
 * never an out-of-bounds access or an allocation sized by garbage.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private final MemorySegment data;
    private final String source;
    private long position;
    private final long limit;

    ProtoReader(MemorySegment data, String source) {
        this(data, source, 0, data.byteSize());
    }

    private ProtoReader(MemorySegment data, String source, long position, long limit) {
        this.data = data;
        this.source = source;
        this.position = position;
        this.limit = limit;
    }

    boolean hasMore() {
        return position < limit;
    }

    /** Absolute offset of the cursor in the source, for error messages. */
    long position() {
        return position;
    }

    String source() {
        return source;
    }

    /** Reads a field key; returns it as {@code fieldNumber << 3 | wireType}. */
    int readTag() {
        long start = position;
        long tag = readVarint();
        if (tag >>> 3 == 0 || tag >>> 3 > 0x1FFF_FFFF) throw error(start, "invalid field number " + (tag >>> 3));
        int wireType = (int) (tag & 7);
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw error(start, "unsupported wire type " + wireType + " for field " + (tag >>> 3));
        }
        return (int) tag;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    long readVarint() {
        long start = position;
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= limit) throw error(start, "truncated varint");
            byte b = data.get(ValueLayout.JAVA_BYTE, position++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) return value;
        }
        throw error(start, "varint longer than 10 bytes");
    }

    /** A varint that must fit a non-negative int (enum values, counts). */
    int readInt32() {
        long start = position;
        long v = readVarint();
        // int32 fields are sign-extended to 64 bits on the wire; accept the int range
        if (v != (int) v) throw error(start, "value " + v + " does not fit a 32-bit integer");
        return (int) v;
    }

    float readFixed32Float() {
        require(4);
        float f = data.get(OnnxTensor.F32, position);
        position += 4;
        return f;
    }

    /** The payload of a length-delimited field, as a zero-copy slice of the source. */
    MemorySegment readBytes() {
        long length = readLength();
        MemorySegment slice = data.asSlice(position, length);
        position += length;
        return slice;
    }

    /** The next {@code n} bytes (an unpacked fixed32/fixed64 value), as a zero-copy slice. */
    MemorySegment readFixedBytes(int n) {
        require(n);
        MemorySegment slice = data.asSlice(position, n);
        position += n;
        return slice;
    }

    /** A reader over an embedded message (or packed repeated field); the cursor moves past it. */
    ProtoReader readMessage() {
        long length = readLength();
        ProtoReader sub = new ProtoReader(data, source, position, position + length);
        position += length;
        return sub;
    }

    /** A string field: UTF-8, as protobuf says, decoded strictly (a name is never changed by a replacement character). */
    String readString() {
        long length = readLength();
        if (length > Integer.MAX_VALUE - 8) throw error(position, "string of " + length + " bytes is too long");
        byte[] bytes = data.asSlice(position, length).toArray(ValueLayout.JAVA_BYTE);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            position += length;
            return s;
        } catch (java.nio.charset.CharacterCodingException e) {
            throw error(position, "string of " + length + " bytes is not valid UTF-8");
        }
    }

    void skip(int tag) {
        switch (wireType(tag)) {
            case VARINT -> readVarint();
            case FIXED64 -> { require(8); position += 8; }
            case FIXED32 -> { require(4); position += 4; }
            case LENGTH_DELIMITED -> {
                long length = readLength(); // before the +=, which would add it to the position before the length's own bytes
                position += length;
            }
            default -> throw error(position, "unsupported wire type " + wireType(tag));
        }
    }

    /** Fails unless the field has the wire type its schema requires. */
    void expect(int tag, int wireType, String field) {
        if (wireType(tag) != wireType) {
            throw error(position, "field " + field + " has wire type " + wireType(tag) + ", expected " + wireType);
        }
    }

    OnnxFormatException error(long offset, String problem) {
        return new OnnxFormatException(source + ": at byte " + offset + ": " + problem);
    }

    private long readLength() {
        long start = position;
        long length = readVarint();
        if (length < 0 || length > limit - position) {
            throw error(start, "length " + length + " exceeds the " + (limit - position) + " bytes that remain");
        }
        return length;
    }

    private void require(long bytes) {
        if (limit - position < bytes) throw error(position, "truncated: need " + bytes + " bytes, " + (limit - position) + " remain");
    }
}
