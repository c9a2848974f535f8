package bertj.loader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** Buffered little-endian writes to a channel, counting the bytes. */
public final class ByteSink implements AutoCloseable {
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private long flushed;

    public ByteSink(FileChannel channel) {
        this.channel = channel;
    }

    public void putFloat(float v) throws IOException {
        if (buffer.remaining() < Float.BYTES) flush();
        buffer.putFloat(v);
    }

    public void putLong(long v) throws IOException {
        if (buffer.remaining() < Long.BYTES) flush();
        buffer.putLong(v);
    }

    public void put(byte[] bytes) throws IOException {
        int pos = 0;
        while (pos < bytes.length) {
            if (!buffer.hasRemaining()) flush();
            int n = Math.min(buffer.remaining(), bytes.length - pos);
            buffer.put(bytes, pos, n);
            pos += n;
        }
    }

    /** The bytes of {@code data}, as they are. */
    public void put(MemorySegment data) throws IOException {
        long pos = 0, size = data.byteSize();
        while (pos < size) {
            if (!buffer.hasRemaining()) flush();
            int n = (int) Math.min(buffer.remaining(), size - pos);
            MemorySegment.copy(data, pos, MemorySegment.ofBuffer(buffer), 0, n);
            buffer.position(buffer.position() + n);
            pos += n;
        }
    }

    /** Floats from {@code values[from, from + count)}. */
    public void putFloats(float[] values, int from, int count) throws IOException {
        int pos = from, end = from + count;
        while (pos < end) {
            if (buffer.remaining() < Float.BYTES) flush();
            int n = Math.min(buffer.remaining() / Float.BYTES, end - pos);
            buffer.asFloatBuffer().put(values, pos, n);
            buffer.position(buffer.position() + n * Float.BYTES);
            pos += n;
        }
    }

    public long written() {
        return flushed + buffer.position();
    }

    public void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) flushed += channel.write(buffer);
        buffer.clear();
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
