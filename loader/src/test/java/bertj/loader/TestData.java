package bertj.loader;

import bertj.fixtures.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test fixtures: the shared Hugging Face models and raw safetensors bytes. */
public final class TestData {
    private TestData() {}

    /**
     * A model folder of the shared test fixtures, with the files the loader's tests were written for: tiny-bert-seqcls
     * without a vocabulary or reference outputs, tiny-bert-bf16-sharded-legacy with its config and weights only.
     */
    public static Path model(String name) {
        return switch (name) {
            case "tiny-bert-seqcls" -> Fixtures.model(name, "config.json", "model.safetensors", "tokenizer_config.json");
            case "tiny-bert-bf16-sharded-legacy" -> Fixtures.model(name, "config.json", "model.safetensors.index.json",
                    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
            default -> throw new IllegalArgumentException("no loader test model " + name);
        };
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
