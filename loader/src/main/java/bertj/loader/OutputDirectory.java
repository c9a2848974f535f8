package bertj.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * A model directory written whole (by import-onnx, quantize, random-model, a trained head's save): never over a
 * user's files, and never half written. The directory must not exist, or be empty; the writer writes into a
 * temporary directory beside it, which is renamed into place once complete and deleted if the writer fails.
 */
public final class OutputDirectory {
    /** Writes the files of a directory. */
    @FunctionalInterface
    public interface Writer<T> {
        T write(Path directory) throws IOException;
    }

    private OutputDirectory() {}

    /** Runs {@code writer} on a staging directory beside {@code output}, then moves it to {@code output}. */
    public static <T> T write(Path output, Writer<T> writer) throws IOException {
        requireAbsentOrEmpty(output);
        Path parent = output.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(output + ": its parent directory " + parent + " does not exist");
        }
        Path staging = Files.createTempDirectory(parent, "." + output.getFileName() + ".tmp-");
        try {
            T result = writer.write(staging);
            Files.deleteIfExists(output); // an empty directory
            Files.move(staging, output, StandardCopyOption.ATOMIC_MOVE);
            return result;
        } finally {
            FileTrees.deleteQuietly(staging);
        }
    }

    /** Refuses an {@code output} that exists and is a file or a directory with something in it. */
    public static void requireAbsentOrEmpty(Path output) {
        if (!Files.exists(output)) return;
        if (!Files.isDirectory(output)) throw new IllegalArgumentException(output + ": exists and is not a directory");
        try (Stream<Path> entries = Files.list(output)) {
            if (entries.findAny().isPresent()) {
                throw new IllegalArgumentException(output + ": exists and is not empty; give a new directory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(output + ": cannot be read: " + e.getMessage(), e);
        }
    }
}
