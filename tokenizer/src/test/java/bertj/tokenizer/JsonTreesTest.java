package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming reader gives the trees ObjectMapper.readTree(File) gives, quirks included. */
class JsonTreesTest {
    @TempDir
    Path temp;

    @Test
    void sameTreesAsReadTree() throws IOException {
        String[] texts = {
            "{\"int\": 7, \"long\": 12345678901, \"big\": 123456789012345678901234567890, \"d\": 2.5e-3, \"e\": 1E2,"
                    + " \"s\": \"\\u00e9\\ud83d\\ude00\", \"t\": true, \"f\": false, \"n\": null, \"l\": [1, [], {}]}",
            "{\"a\": 1, \"a\": {\"b\": 2}}", // a repeated key keeps its last value
            "[1, 2] [3]",                    // only the first value is read
            "\"just a string\"",
        };
        ObjectMapper mapper = new ObjectMapper();
        for (String text : texts) {
            Path file = temp.resolve("t.json");
            Files.writeString(file, text);
            JsonNode expected = mapper.readTree(file.toFile());
            JsonNode actual = JsonTrees.read(file);
            assertEquals(expected, actual, text);
            assertEquals(expected.toString(), actual.toString(), text);
        }
        assertTrue(JsonTrees.read(Files.writeString(temp.resolve("empty.json"), "")).isMissingNode());
    }

    @Test
    void malformedJsonIsAnIoError() throws IOException {
        Path broken = Files.writeString(temp.resolve("broken.json"), "{\"a\": [1, 2");
        assertThrows(IOException.class, () -> JsonTrees.read(broken));
        Path latin1 = Files.write(temp.resolve("latin1.json"), "{\"a\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));
        assertThrows(IOException.class, () -> JsonTrees.read(latin1));
    }
}
