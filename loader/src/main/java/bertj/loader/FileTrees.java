package bertj.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removing the temporary directories that conversions and writers stage their output in. */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and everything under it, as far as it can; a leftover is harmless, so nothing is thrown. */
    public static void deleteQuietly(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            // left for the next run's clean-up
        }
    }
}
