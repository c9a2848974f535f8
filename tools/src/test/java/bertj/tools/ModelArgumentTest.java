package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import bertj.loader.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArgumentTest {
    @TempDir
    Path temp;

    @Test
    void modelArgumentsMustBeModelDirectories() throws IOException {
        assertEquals(temp.resolve("nope") + ": no such model directory (give a model directory, a Hugging Face model name such as org/name, or \"default\")",
                assertThrows(ModelFormatException.class, () -> ModelArgument.resolve(temp.resolve("nope").toString())).getMessage());
        Path file = Files.createFile(temp.resolve("file"));
        assertEquals(file + ": not a directory (expected a Hugging Face model directory)",
                assertThrows(ModelFormatException.class, () -> ModelArgument.resolve(file.toString())).getMessage());
        assertEquals(temp + ": no config.json (not a Hugging Face model directory?)",
                assertThrows(ModelFormatException.class, () -> ModelArgument.resolve(temp.toString())).getMessage());
        Files.writeString(temp.resolve("config.json"), "{}");
        assertEquals(temp, ModelArgument.resolve(temp.toString()));
    }
}
