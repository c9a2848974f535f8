package bertj.loader;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files the way the safetensors library does: the JSON header padded with spaces to a
 * multiple of 8 bytes, then the tensors' bytes back to back in the order given. Tensors whose sizes are
 * multiples of their alignment (true for every F32 model) stay aligned; put wider dtypes first otherwise.
 */
public final class SafetensorsWriter {
    /** Tensor bytes are written in chunks so that tensors over 2 GB (a ByteBuffer's limit) work. */
    private static final long CHUNK_BYTES = 64L << 20;

    private SafetensorsWriter() {}

    public static void write(Path file, Collection<Tensor> tensors) {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (in iteration order) and {@code metadata} to {@code file}, replacing it. The file
     * is written under a temporary name in the same directory and moved into place, so a failed write never
     * leaves a half-written model behind.
     *
     * @throws IllegalArgumentException if two tensors share a name
     * @throws UncheckedIOException if writing fails
     */
    public static void write(Path file, Collection<Tensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            // Not Files.createTempFile: that would give the model file owner-only permissions.
            tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "."
                    + System.nanoTime() + ".tmp");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer length = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                length.putLong(0, header.length);
                writeFully(out, length);
                writeFully(out, ByteBuffer.wrap(header));
                for (Tensor t : tensors) {
                    MemorySegment data = t.data();
                    for (long pos = 0; pos < data.byteSize(); pos += CHUNK_BYTES) {
                        long n = Math.min(CHUNK_BYTES, data.byteSize() - pos);
                        MemorySegment chunk = data.asSlice(pos, n);
                        // Only native and byte[]-backed segments can be viewed as a ByteBuffer.
                        writeFully(out, chunk.isNative() ? chunk.asByteBuffer()
                                : ByteBuffer.wrap(chunk.toArray(ValueLayout.JAVA_BYTE)));
                    }
                }
                out.force(false);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; that error is the one to report
                }
            }
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 so the data section starts 8-byte aligned. */
    static byte[] header(Collection<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            if (t.name().equals("__metadata__")) {
                throw new IllegalArgumentException("\"__metadata__\" is reserved and cannot name a tensor");
            }
            if (!seen.add(t.name())) throw new IllegalArgumentException("duplicate tensor name \"" + t.name() + "\"");
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] json = TextFiles.compactJson(root).getBytes(StandardCharsets.US_ASCII); // names of any text, escaped
        int padded = (json.length + 7) & ~7;
        byte[] header = new byte[padded];
        System.arraycopy(json, 0, header, 0, json.length);
        for (int i = json.length; i < padded; i++) header[i] = ' ';
        return header;
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }
}
