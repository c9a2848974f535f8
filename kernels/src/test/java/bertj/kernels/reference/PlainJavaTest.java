package bertj.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The reference kernels are plain Java: no source of this package names the Vector API or another class of
 * bertj.kernels than the {@code Activation} and {@code Precision} enums, so they can be read, and run, without
 * the incubator module.
 */
class PlainJavaTest {
    @Test
    void noSourceImportsTheVectorApiOrTheSimdKernels() throws IOException {
        Path dir = Path.of("src/main/java/bertj/kernels/reference");
        List<Path> sources;
        try (Stream<Path> files = Files.list(dir)) {
            sources = files.filter(f -> f.toString().endsWith(".java")).toList();
        }
        assertTrue(sources.size() >= 3, "found " + sources);
        for (Path source : sources) {
            for (String line : Files.readAllLines(source)) {
                String code = line.strip();
                assertFalse(code.contains("jdk.incubator"), source + ": " + line);
                if (code.startsWith("import bertj.kernels.")) {
                    assertTrue(code.equals("import bertj.kernels.Activation;") || code.equals("import bertj.kernels.Precision;")
                            || code.startsWith("import bertj.kernels.reference."), source + ": " + line);
                }
            }
        }
    }
}
