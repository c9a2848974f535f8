package bertj.tokenizer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Regenerates {@code src/main/resources/bertj/tokenizer/unicode-tables.bin} from the two text files beside it, after
 * either changes ({@link UnicodeBehaviourTest} checks that the shipped file holds what they say).
 *
 * <p>Run: {@code java -cp target/classes:target/test-classes bertj.tokenizer.CompileUnicodeTables OUT}
 */
public final class CompileUnicodeTables {
    private CompileUnicodeTables() {}

    public static void main(String[] args) throws IOException {
        try (OutputStream out = Files.newOutputStream(Path.of(args[0]))) {
            UnicodeTables.fromText().write(out);
        }
    }
}
