package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lengths and counts from the caller or a file that would size an allocation are checked before anything is
 * allocated for them, and JSON files are read as UTF-8, never guessed.
 */
class InputLimitsTest {
    private static final BertTokenizer T = ReferenceCasesTest.FROM_VOCAB;

    /** A heap measure of the calling thread, to show that a refused request allocated next to nothing. */
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** The fuzzed CLI run `tokenize --padding max_length --max-length 2147483647` once ran out of memory here. */
    @Test
    void anAbsurdPaddingLengthIsRefusedBeforeAllocating() {
        EncodeOptions huge = EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, Integer.MAX_VALUE).withPadding(Padding.MAX_LENGTH);
        long before = allocated();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> T.encode("Hello, world!", null, huge));
        assertTrue(allocated() - before < (16 << 20), "allocated " + (allocated() - before) + " bytes before refusing");
        assertEquals("padding to maxLength 2147483647 tokens: over the limit of 65536 tokens an encoding may be padded to", e.getMessage());
        // the same through every way a target is given: padLength, padToMultipleOf, model_max_length, windows, batches
        assertEquals("padLength must be from 0 to 65536 tokens, got 65537",
                assertThrows(IllegalArgumentException.class, () -> EncodeOptions.DEFAULT.withPadding(Padding.MAX_LENGTH, 65_537)).getMessage());
        assertEquals("padToMultipleOf must be from 0 to 65536, got 2147483647",
                assertThrows(IllegalArgumentException.class, () -> EncodeOptions.DEFAULT.withPadToMultipleOf(Integer.MAX_VALUE)).getMessage());
        EncodeOptions windows = huge.withTruncation(Truncation.LONGEST_FIRST, 1 << 20).withStride(2).withReturnOverflowing(true);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> T.encode("a b", "c d", windows)).getMessage()
                .startsWith("padding to maxLength 1048576 tokens: over the limit of 65536"));
        assertThrows(IllegalArgumentException.class, () -> T.encodeBatch(List.of("a", "b"), null, huge));
        // at the limit it pads, and an encoding already longer than any target is left as it is
        assertEquals(65_536, T.encode("a", null, EncodeOptions.DEFAULT.withPadding(Padding.MAX_LENGTH, 65_536)).length());
        String longText = "word ".repeat(70_000);
        assertEquals(70_002, T.encode(longText, null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST).withPadToMultipleOf(2)).length());
        assertEquals(70_002, T.encode(longText, null, huge.withTruncation(Truncation.NONE, 70_000)).length());
    }

    @Test
    void aModelMaxLengthTooLongToPadToIsNamed(@TempDir Path dir) throws Exception {
        Files.copy(ReferenceCasesTest.VOCAB, dir.resolve("vocab.txt"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 2000000000}");
        BertTokenizer t = BertTokenizer.fromDirectory(dir);
        assertEquals(2_000_000_000, t.modelMaxLength());
        assertEquals("padding to model_max_length 2000000000 tokens: over the limit of 65536 tokens an encoding may be padded to",
                assertThrows(IllegalArgumentException.class, () -> t.encode("a", null, EncodeOptions.DEFAULT.withPadding(Padding.MAX_LENGTH)))
                        .getMessage());
    }

    /**
     * A stride that moves each window by one token repeats every token as many times as the window is long, and
     * a pair's windows are combined with each other's: both are refused past {@link BertTokenizer#MAX_GROWTH} times
     * the input, before the windows are made.
     */
    @Test
    void windowsThatWouldMultiplyTheInputAreRefused() {
        String text = "word ".repeat(20_000);
        EncodeOptions stepOfOne = EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 512).withStride(509).withReturnOverflowing(true);
        long before = allocated();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> T.encode(text, null, stepOfOne));
        assertTrue(allocated() - before < (32 << 20), "allocated " + (allocated() - before) + " bytes before refusing");
        assertTrue(e.getMessage().startsWith("overflowing windows of maxLength 512 with stride 509 would make up to 9979392 tokens"
                + " from an input of 20002: over the limit of 1048576 (16 times the input, or 1048576)"), e.getMessage());
        String pairText = "word ".repeat(3_000);
        EncodeOptions both = EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 16).withStride(2).withReturnOverflowing(true);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> T.encode(pairText, pairText, both)).getMessage()
                .startsWith("overflowing windows of maxLength 16 with stride 2"));
        // question answering's windows (384 tokens, stride 128) over a long context are well within the limit
        Encoding qa = T.encode("what is it?", "word ".repeat(100_000), EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 384)
                .withStride(128).withReturnOverflowing(true));
        int room = 384 - 3 - 4, step = room - 128; // [CLS] what is it? [SEP] ... [SEP]
        assertEquals((100_000 - room + step - 1) / step, qa.overflowing().size());
    }

    @Test
    void aBatchPaddedToOneFarLongerTextIsRefused() {
        List<String> texts = new ArrayList<>(List.of("word ".repeat(50_000)));
        for (int i = 0; i < 1_000; i++) texts.add("a");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> T.encodeBatch(texts, null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST)));
        assertTrue(e.getMessage().startsWith("padding a batch of 1001 encodings (53002 tokens) to its longest, 50002 tokens, makes"
                + " 50052002 tokens: over the limit of 1048576"), e.getMessage());
        // a batch of similar lengths pads
        List<Encoding> batch = T.encodeBatch(List.of("a b c", "a"), null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST));
        assertEquals(5, batch.get(1).length());
    }

    /** tokenizer.json is UTF-8: never guessed as UTF-16 or UTF-32, as Jackson does from zero bytes given a file. */
    @Test
    void jsonFilesAreReadAsUtf8(@TempDir Path dir) throws Exception {
        String minimal = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2}},"
                + " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}";
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, minimal);
        assertEquals(3, BertTokenizer.fromTokenizerJson(json).vocabSize());
        Files.write(json, minimal.getBytes(StandardCharsets.UTF_16LE));
        assertEquals(json + ": not valid JSON: Illegal character ((CTRL-CHAR, code 0)): only regular white space (\\r, \\n, \\t)"
                        + " is allowed between tokens (line 1, column 3)",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
        Files.write(json, minimal.getBytes(java.nio.charset.Charset.forName("UTF-32BE")));
        assertTrue(assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage()
                .startsWith(json + ": not valid JSON: Illegal character ((CTRL-CHAR, code 0))"));
        Files.write(json, minimal.getBytes(StandardCharsets.UTF_16)); // with its byte order mark, FE FF
        assertEquals(json + ": not valid UTF-8 at byte 0 (line 1)",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
        Files.writeString(json, "\uFEFF" + minimal);
        assertEquals(json + ": not valid JSON: starts with a byte order mark (U+FEFF), which a JSON file must not have;"
                        + " Hugging Face's readers refuse it too",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
    }

    /**
     * A lone surrogate in tokenizer.json ("\ud800", which no UTF-8 file can hold but a JSON escape can) is refused, as
     * tokenizers refuses it; in tokenizer_config.json, which transformers reads with Python's json, it is read.
     */
    @Test
    void loneSurrogatesInTokenizerJsonAreRefusedAsTokenizersRefusesThem(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2,"
                + " \"x\\udc00\": 3}}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}");
        assertEquals(json + ": not valid JSON: lone surrogate \\uDC00 in a string, which is not Unicode text (tokenizers cannot read it"
                        + " either) (line 1, column 91)",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
        Files.copy(ReferenceCasesTest.VOCAB, dir.resolve("vocab.txt"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"mask_token\": \"\\ud800\"}");
        Files.delete(json);
        assertEquals(List.of("[CLS]", "hello", "[SEP]"), BertTokenizer.fromDirectory(dir).encode("hello").tokens());
    }
}
