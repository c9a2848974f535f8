package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
            JsonNode actual = parse(text, true);
            assertEquals(expected, actual, text);
            assertEquals(expected.toString(), actual.toString(), text);
        }
        assertTrue(parse("", true).isMissingNode());
    }

    @Test
    void malformedJsonIsAnIoError() {
        assertThrows(IOException.class, () -> parse("{\"a\": [1, 2", false));
        // NUL is UTF-8 too: bytes such as 00 00 00 7B are a parse error here, not UTF-32 as Jackson guesses from bytes
        assertTrue(assertThrows(JsonParseException.class, () -> parse("\u0000\u0000\u0000{}", false)).getMessage()
                .contains("code 0"));
        assertTrue(assertThrows(JsonParseException.class, () -> parse("\uFEFF{}", false)).getMessage().contains("byte order mark"));
    }

    /** tokenizers (serde_json) cannot read a lone surrogate into a string; Python's json, which reads tokenizer_config.json, can. */
    @Test
    void loneSurrogatesAreRefusedWhenAsked() throws IOException {
        for (String text : new String[] {"{\"a\": \"x\\ud800\"}", "{\"\\udc00\": 1}", "[\"\\ude00\\ud83d\"]"}) {
            JsonParseException e = assertThrows(JsonParseException.class, () -> parse(text, true), text);
            assertTrue(e.getMessage().startsWith("lone surrogate \\u"), e.getMessage());
            assertTrue(e.getMessage().contains("line: 1, column: "), e.getMessage());
        }
        assertEquals("x\ud800", parse("{\"a\": \"x\\ud800\"}", false).get("a").textValue());
        assertEquals(1, parse("{\"\\udc00\": 1}", false).get("\udc00").intValue());
        assertEquals("\ud83d\ude00", parse("{\"a\": \"\\ud83d\\ude00\"}", true).get("a").textValue());
    }

    private static JsonNode parse(String text, boolean unicodeStrings) throws IOException {
        return JsonTrees.parse(text.toCharArray(), text.length(), unicodeStrings);
    }
}
