package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text files are UTF-8 both ways: never guessed when read, never lossy when written. */
class TextFilesTest {
    @TempDir
    Path dir;

    /** config.json in UTF-16 or UTF-32 is not UTF-8 JSON; it is named as such, not decoded by a guess. */
    @Test
    void jsonIsReadAsUtf8Only() throws Exception {
        String config = "{\"hidden_size\": 8}";
        Path file = dir.resolve("config.json");
        Files.write(file, config.getBytes(StandardCharsets.UTF_16));
        assertEquals(file + ": not valid UTF-8 at byte 0 (line 1)", assertThrows(ModelFormatException.class, () -> Json.readObject(file)).getMessage());
        Files.write(file, config.getBytes(Charset.forName("UTF-32LE")));
        assertEquals(file + ": malformed JSON: Illegal character ((CTRL-CHAR, code 0)): only regular white space (\\r, \\n, \\t) is"
                + " allowed between tokens (line 1, column 3)", assertThrows(ModelFormatException.class, () -> Json.readObject(file)).getMessage());
        Files.write(file, ("{\"a\": \"caf" + (char) 0xe9 + "\"}").getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(file + ": not valid UTF-8 at byte 10 (line 1)", assertThrows(ModelFormatException.class, () -> Json.readObject(file)).getMessage());
        Files.writeString(file, "\uFEFF" + config);
        assertEquals(file + ": malformed JSON: starts with a byte order mark (U+FEFF), which a JSON file must not have; Hugging Face's"
                + " readers refuse it too", assertThrows(ModelFormatException.class, () -> Json.readObject(file)).getMessage());
        assertEquals(dir.resolve("none.json") + ": file not found",
                assertThrows(ModelFormatException.class, () -> Json.readObject(dir.resolve("none.json"))).getMessage());
    }

    /** JSON is written as ASCII with escapes: every string, lone surrogates and other planes included, reads back as it was. */
    @Test
    void jsonIsWrittenLosslessly() throws Exception {
        List<String> strings = List.of("caf\u00e9", "\u6771\u4eac", "\ud83d\ude00", "lone \ud800 high", "lone \udc00 low", "\u0000\u001f\u2028");
        ObjectNode tree = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < strings.size(); i++) tree.put(strings.get(i), i).put("v" + i, strings.get(i));
        Path file = dir.resolve("out.json");
        TextFiles.writeJson(file, tree);
        byte[] bytes = Files.readAllBytes(file);
        for (byte b : bytes) assertFalse(b < 0, "non-ASCII byte written");
        assertEquals(tree, Json.readObject(file));

        BertConfig withLabels = BertConfig.builder().vocabSize(10).hiddenSize(4).numHiddenLayers(1).numAttentionHeads(1).intermediateSize(4)
                .id2label(Map.of(0, "n\u00e9gatif", 1, "\ud800")).build();
        Path config = dir.resolve("config.json");
        Files.writeString(config, withLabels.toJson(), StandardCharsets.US_ASCII);
        assertEquals(withLabels, BertConfig.load(config));
    }

    /** UTF-8 text cannot hold a lone surrogate: it is refused, with where it is, instead of becoming '?'. */
    @Test
    void plainTextWithALoneSurrogateIsRefused() throws Exception {
        assertArrayEquals("a\ud83d\ude00".getBytes(StandardCharsets.UTF_8), TextFiles.utf8("a\ud83d\ude00", "token"));
        assertEquals("token 7 holds a lone surrogate (\\uDC00 at index 1), which UTF-8 cannot hold",
                assertThrows(IllegalArgumentException.class, () -> TextFiles.utf8("a\udc00\ud83d\ude00", "token 7")).getMessage());
        Path file = dir.resolve("vocab.txt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextFiles.writeUtf8(file, "[PAD]\nx\ud800"));
        assertEquals(file + " holds a lone surrogate (\\uD800 at index 7), which UTF-8 cannot hold", e.getMessage());
        assertFalse(Files.exists(file));
    }
}
