package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TINY = model("tiny-bert").toString();

    static List<JsonNode> lines(String out) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : out.split("\n")) nodes.add(JSON.readTree(line));
        return nodes;
    }

    static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    @Test
    void answersEveryLineAndReportsTheMalformedOnes() throws Exception {
        String input = """
                {"text": "Hello, world!"}
                {"text": "a", "text_pair": "b c"}
                {"text": "unterminated
                {"text_pair": "no text"}
                {"text": "🎉 naïve"}
                """;
        Run r = run(input, "tokenize", TINY);
        assertEquals(1, r.exitCode(), "a failed line makes the exit code 1");
        List<JsonNode> out = lines(r.out());
        assertEquals(5, out.size(), "one output line per input line");

        JsonNode hello = out.get(0);
        assertEquals(List.of(101, 7592, 1010, 2088, 999, 102), ints(hello.get("ids")));
        assertEquals("[\"[CLS]\",\"hello\",\",\",\"world\",\"!\",\"[SEP]\"]", hello.get("tokens").toString());
        assertEquals(List.of(0, 0, 0, 0, 0, 0), ints(hello.get("type_ids")));
        assertEquals(List.of(1, 1, 1, 1, 1, 1), ints(hello.get("attention_mask")));
        assertEquals(List.of(1, 0, 0, 0, 0, 1), ints(hello.get("special_tokens_mask")));
        assertEquals("[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]", hello.get("offsets").toString());

        JsonNode pair = out.get(1);
        assertEquals(List.of(101, 1037, 102, 1038, 1039, 102), ints(pair.get("ids")));
        assertEquals(List.of(0, 0, 0, 1, 1, 1), ints(pair.get("type_ids")));
        assertEquals("[[0,0],[0,1],[0,0],[0,1],[2,3],[0,0]]", pair.get("offsets").toString(), "pair offsets index the pair");

        assertTrue(out.get(2).get("error").asText().startsWith("line 3: not valid JSON"), out.get(2).toString());
        assertEquals("line 4: \"text\" must be a string", out.get(3).get("error").asText());
        assertTrue(r.err().contains("bertj: line 3: not valid JSON"), r.err());
        assertTrue(r.err().contains("bertj: line 4: \"text\" must be a string\n"), r.err());

        // offsets count code points, as Python does: the emoji before "naive" is one position, not two
        JsonNode emoji = out.get(4);
        assertEquals("[\"[CLS]\",\"[UNK]\",\"naive\",\"[SEP]\"]", emoji.get("tokens").toString());
        assertEquals("[[0,0],[0,1],[2,7],[0,0]]", emoji.get("offsets").toString());
        assertTrue(r.out().contains("\"naive\""), "output is ASCII-escaped JSON, as json.dumps writes it");
    }

    /**
     * stdin is UTF-8: a line in another encoding is answered with an error naming the byte, not tokenized with
     * replacement characters in the place of its letters; \r\n and \r end lines as \n does.
     */
    @Test
    void aLineThatIsNotUtf8IsAnError() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.writeBytes("{\"text\": \"caf\u00e9\"}\r\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"text\": \"caf\u00e9\"}\r".getBytes(StandardCharsets.ISO_8859_1)); // Latin-1: E9 alone
        bytes.writeBytes("{\"text\": \"d\u00e9j\u00e0\"}\n".getBytes(StandardCharsets.UTF_8));
        byte[] stdin = bytes.toByteArray();
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"tokenize", TINY}, new ByteArrayInputStream(stdin), new PrintWriter(out), new PrintWriter(err));
        assertEquals(1, code, err.toString());
        List<JsonNode> lines = lines(out.toString());
        assertEquals(3, lines.size(), out.toString());
        assertEquals("[\"[CLS]\",\"cafe\",\"[SEP]\"]", lines.get(0).get("tokens").toString());
        assertEquals("line 2: not valid UTF-8 at byte 13 of the line", lines.get(1).get("error").asText());
        assertEquals("[\"[CLS]\",\"de\",\"##ja\",\"[SEP]\"]", lines.get(2).get("tokens").toString());
    }

    /** One JSON object per line: blank lines are skipped (and counted), anything after the object is an error. */
    @Test
    void blankLinesAreSkippedAndTrailingContentIsAnError() throws Exception {
        Run r = run("\uFEFF{\"text\": \"a\"}\n\n  \t\n{\"text\": \"b\"}{\"text\": \"c\"}\n{\"text\": \"d\"} x\n{\"text\": \"e\"}\n\n",
                "tokenize", TINY);
        assertEquals(1, r.exitCode(), r.err());
        List<JsonNode> out = lines(r.out());
        assertEquals(4, out.size(), r.out());
        assertEquals("[\"[CLS]\",\"a\",\"[SEP]\"]", out.get(0).get("tokens").toString(), "a byte-order mark is dropped");
        assertEquals("line 4: unexpected content after the JSON value, at column 14 (one JSON object per line)",
                out.get(1).get("error").asText());
        assertTrue(out.get(2).get("error").asText().startsWith("line 5: not valid JSON: Unrecognized token 'x'"), out.get(2).toString());
        assertFalse(r.err().contains("REDACTED"), r.err());
        assertEquals("[\"[CLS]\",\"e\",\"[SEP]\"]", out.get(3).get("tokens").toString());
    }

    @Test
    void paddingLongestMakesTheInputOneBatch() throws Exception {
        Run r = run("{\"text\": \"one\"}\n{\"text\": \"two words here\"}\n[]\n", "tokenize", TINY, "--padding", "longest");
        assertEquals(1, r.exitCode());
        List<JsonNode> out = lines(r.out());
        assertEquals(List.of(101, 2028, 102, 0, 0), ints(out.get(0).get("ids")));
        assertEquals(List.of(1, 1, 1, 0, 0), ints(out.get(0).get("attention_mask")));
        assertEquals(List.of(1, 0, 1, 1, 1), ints(out.get(0).get("special_tokens_mask")));
        assertEquals(5, out.get(1).get("ids").size());
        assertEquals("line 3: expected a JSON object with a string \"text\"", out.get(2).get("error").asText());
    }

    @Test
    void strideAddsOverflowingWindows() throws Exception {
        Run r = run("{\"text\": \"a b c d e\"}\n", "tokenize", TINY, "--max-length", "4", "--stride", "1");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode e = lines(r.out()).getFirst();
        assertEquals("[\"[CLS]\",\"a\",\"b\",\"[SEP]\"]", e.get("tokens").toString());
        List<String> windows = new ArrayList<>();
        e.get("overflowing").forEach(w -> windows.add(w.get("tokens").toString()));
        assertEquals(List.of("[\"[CLS]\",\"b\",\"c\",\"[SEP]\"]", "[\"[CLS]\",\"c\",\"d\",\"[SEP]\"]", "[\"[CLS]\",\"d\",\"e\",\"[SEP]\"]"), windows);
        assertTrue(e.get("overflowing").get(0).get("overflowing") == null, "windows do not nest");
    }

    @Test
    void maxLengthAloneTruncatesAndPaddingMaxLengthPads() throws Exception {
        JsonNode truncated = lines(run("{\"text\": \"a b c d e\"}\n", "tokenize", TINY, "--max-length", "4").out()).getFirst();
        assertEquals(List.of(101, 1037, 1038, 102), ints(truncated.get("ids")));
        assertTrue(truncated.get("overflowing") == null);
        JsonNode padded = lines(run("{\"text\": \"a\"}\n", "tokenize", TINY, "--padding", "max_length", "--max-length", "5").out()).getFirst();
        assertEquals(List.of(101, 1037, 102, 0, 0), ints(padded.get("ids")));
    }

    /** The default model's tokenizer.json enables truncation and padding at 128, and tokenizers applies them. */
    @Test
    void withoutOptionsTheTokenizersOwnSettingsApply() throws Exception {
        JsonNode e = lines(run("{\"text\": \"hello\"}\n", "tokenize", "default").out()).getFirst();
        assertEquals(128, e.get("ids").size());
        assertEquals(List.of(101, 7592, 102, 0), ints(e.get("ids")).subList(0, 4));
        JsonNode plain = lines(run("{\"text\": \"hello\"}\n", "tokenize", TINY).out()).getFirst();
        assertEquals(3, plain.get("ids").size(), "a vocab.txt tokenizer has no saved truncation or padding");
    }

    @Test
    void badOptionsAreUsageErrors() {
        for (String[] args : new String[][] {{"--stride", "2"}, {"--padding", "bogus"}, {"--truncation", "bogus"},
                {"--max-length", "0"}, {"--max-length", "x"}, {"--max-length", "8", "--stride", "-1"}}) {
            List<String> all = new ArrayList<>(List.of("tokenize", TINY));
            all.addAll(List.of(args));
            Run r = run("{\"text\": \"a\"}\n", all.toArray(String[]::new));
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertEquals("", r.out());
            assertTrue(r.err().contains("Usage: bertj tokenize"), r.err());
        }
    }
}
