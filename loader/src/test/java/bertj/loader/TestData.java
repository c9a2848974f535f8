package bertj.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test fixtures: the copied Hugging Face models and raw safetensors bytes. */
final class TestData {
    private TestData() {}

    /** A model folder under src/test/resources/models (copied from the shared fixtures). */
    static Path model(String name) {
        try {
            return Path.of(TestData.class.getResource("/models/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes [header length][header][data] as given, with no checks: for building corrupt files. */
    static Path rawFile(Path file, long headerLength, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(headerLength).put(h).put(data);
        try {
            Files.write(file, buf.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path rawFile(Path file, String header, int dataBytes) {
        return rawFile(file, header.getBytes(StandardCharsets.UTF_8).length, header, new byte[dataBytes]);
    }
}
