package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overflowing windows (question answering over long contexts), option edge cases and loading. */
class OverflowAndOptionsTest {
    private static final BertTokenizer T = ReferenceCasesTest.FROM_JSON;

    @Test
    void onlySecondWindowsRepeatTheQuestion() {
        String question = "who";
        String context = "hello world a b c d e f g h i j k";
        EncodeOptions qa = EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 8).withStride(2).withReturnOverflowing(true)
                .withPadding(Padding.MAX_LENGTH);
        Encoding e = T.encode(question, context, qa);
        // Room for the context: 8 - 3 special - 1 question token = 4, windows advance by 4 - 2.
        assertEquals(List.of("[CLS]", "who", "[SEP]", "hello", "world", "a", "b", "[SEP]"), e.tokens());
        String[] expectedWindows = {"a b c d", "c d e f", "e f g h", "g h i j", "i j k [PAD]"};
        assertEquals(expectedWindows.length, e.overflowing().size());
        for (int w = 0; w < expectedWindows.length; w++) {
            Encoding window = e.overflowing().get(w);
            assertEquals("[CLS] who [SEP] " + expectedWindows[w].replace(" [PAD]", " [SEP] [PAD]") + (w < 4 ? " [SEP]" : ""),
                    String.join(" ", window.tokens()), "window " + w);
            assertEquals(8, window.length());
            assertArrayEquals(w < 4 ? new int[] {0, 0, 0, 1, 1, 1, 1, 1} : new int[] {0, 0, 0, 1, 1, 1, 1, 0}, window.typeIds(), "window " + w);
            // Offsets of context tokens point into the context.
            for (int i = 3; i < window.length(); i++) {
                if (window.sequenceIds()[i] == 1) {
                    assertEquals(window.tokens().get(i), context.substring(window.starts()[i], window.ends()[i]));
                }
            }
            assertTrue(window.overflowing().isEmpty());
        }
        // Without overflowing windows the main encoding is the same (tokenizers 0.23's early exit only drops the rest).
        assertEquals(e.tokens(), T.encode(question, context, qa.withReturnOverflowing(false)).tokens());
        assertTrue(T.encode(question, context, qa.withReturnOverflowing(false)).overflowing().isEmpty());
    }

    @Test
    void singleSequenceWindowsCoverTheWholeText() {
        String text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
        Encoding e = T.encode(text, null, EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 10).withStride(3)
                .withReturnOverflowing(true));
        StringBuilder seen = new StringBuilder(String.join(" ", e.tokens().subList(1, 9)));
        for (Encoding w : e.overflowing()) {
            assertEquals("[CLS]", w.tokens().getFirst());
            assertEquals("[SEP]", w.tokens().getLast());
            List<String> inner = w.tokens().subList(1, w.length() - 1);
            seen.append(' ').append(String.join(" ", inner.subList(Math.min(3, inner.size()), inner.size())));
        }
        assertEquals(text, seen.toString());
    }

    @Test
    void impossibleRequestsThrowTokenizerException() {
        String text = "one two three four five six seven eight nine ten";
        assertEquals("Truncation error: Second sequence not provided", assertThrows(TokenizerException.class,
                () -> T.encode(text, null, EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 8))).getMessage());
        assertEquals("Truncation error: Sequence to truncate too short to respect the provided max_length",
                assertThrows(TokenizerException.class,
                        () -> T.encode(text, "x", EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 8))).getMessage());
        TokenizerException stride = assertThrows(TokenizerException.class, () -> T.encode(text, null,
                EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 8).withStride(6)));
        assertTrue(stride.getMessage().contains("stride 6"), stride.getMessage());
        // Short inputs need no truncation, so the same options are fine.
        assertEquals(4, T.encode("one two", null, EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 8)).length());
        assertThrows(IllegalArgumentException.class, () -> EncodeOptions.DEFAULT.withStride(-1));
    }

    @Test
    void paddingNeverTruncatesAndRoundsUp() {
        Encoding e = T.encode("one two three", null, EncodeOptions.DEFAULT.withPadding(Padding.MAX_LENGTH, 3));
        assertEquals(5, e.length());
        Encoding m = T.encode("one two three", null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST).withPadToMultipleOf(8));
        assertEquals(8, m.length());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 0, 0, 0}, m.attentionMask());
        assertArrayEquals(new int[] {1, 0, 0, 0, 1, 1, 1, 1}, m.specialTokensMask());
        List<Encoding> batch = T.encodeBatch(List.of("a", "a b c d"), null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST));
        assertEquals(6, batch.get(0).length());
        assertEquals(6, batch.get(1).length());
        assertEquals(T.padTokenId(), batch.get(0).ids()[5]);
    }

    @Test
    void apiBasics() {
        assertEquals(30522, T.vocabSize());
        assertEquals(101, T.clsTokenId());
        assertEquals(102, T.sepTokenId());
        assertEquals(0, T.padTokenId());
        assertEquals(100, T.unkTokenId());
        assertEquals(128, T.modelMaxLength());
        assertEquals(7592, T.tokenToId("hello"));
        assertEquals(-1, T.tokenToId("no such token"));
        assertEquals(java.util.Arrays.asList("[CLS]", "hello", null), T.convertIdsToTokens(new int[] {101, 7592, 999999}));
        assertEquals(128, T.encode("hello").length());   // the shipped tokenizer.json pads to 128
        assertEquals(512, ReferenceCasesTest.FROM_VOCAB.modelMaxLength());
        assertEquals(3, ReferenceCasesTest.FROM_VOCAB.encode("hello").length());
        assertEquals("hello world.ing [UNK]", T.decode(new int[] {7592, 2088, 1012, 2075, 100}, false));
        assertEquals("##ing world", T.decode(new int[] {2075, 2088, 100}, true));
    }

    /** Expected spans from tokenizers 0.23.2 with the flag set on [MASK] (see src/test/reference). */
    @Test
    void addedTokenFlags(@TempDir Path dir) throws Exception {
        EncodeOptions plain = EncodeOptions.DEFAULT.withAddSpecialTokens(false);
        BertTokenizer lstrip = withMaskFlag(dir, "lstrip");
        Encoding l = lstrip.encode("a  [MASK]  b", null, plain);
        assertArrayEquals(new int[] {1037, 103, 1038}, l.ids());
        assertArrayEquals(new int[] {0, 1, 11}, l.starts());
        assertArrayEquals(new int[] {1, 9, 12}, l.ends());
        BertTokenizer rstrip = withMaskFlag(dir, "rstrip");
        Encoding r = rstrip.encode("a  [MASK]  b", null, plain);
        assertArrayEquals(new int[] {0, 3, 11}, r.starts());
        assertArrayEquals(new int[] {1, 11, 12}, r.ends());
        BertTokenizer single = withMaskFlag(dir, "single_word");
        assertEquals(List.of("a", "[MASK]", "b"), single.encode("a  [MASK]  b", null, plain).tokens());
        assertEquals(List.of("a", "[", "mask", "]", "b"), single.encode("a[MASK]b", null, plain).tokens());
        assertEquals(List.of("_", "[", "mask", "]", "_"), single.encode("_[MASK]_", null, plain).tokens());
        assertEquals(List.of("e", "[", "mask", "]"), single.encode("é[MASK]", null, plain).tokens());
        assertEquals(List.of("x", "[MASK]"), single.encode("x [MASK]", null, plain).tokens());
    }

    /**
     * vocab.txt with tokenizer_config.json's added_tokens_decoder tokenizes as tokenizer.json with the same
     * added_tokens (transformers saves both): a special token of the vocabulary and a normalized one past it.
     */
    @Test
    void addedTokensOfTheConfigBesideVocabTxt(@TempDir Path dir) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        int next = (int) Files.lines(ReferenceCasesTest.VOCAB).count();
        String unused = "{\"content\": \"[unused0]\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, "
                + "\"single_word\": false, \"special\": true}";
        String entity = "{\"content\": \"<ent>\", \"lstrip\": false, \"normalized\": true, \"rstrip\": false, "
                + "\"single_word\": false, \"special\": false}";
        Path vocabDir = Files.createDirectory(dir.resolve("vocab"));
        Files.copy(ReferenceCasesTest.VOCAB, vocabDir.resolve("vocab.txt"));
        Files.writeString(vocabDir.resolve("tokenizer_config.json"),
                "{\"added_tokens_decoder\": {\"1\": " + unused + ", \"" + next + "\": " + entity + "}}");
        com.fasterxml.jackson.databind.node.ObjectNode root =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(ReferenceCasesTest.DIR.resolve("tokenizer.json").toFile());
        com.fasterxml.jackson.databind.node.ArrayNode tokens = (com.fasterxml.jackson.databind.node.ArrayNode) root.get("added_tokens");
        tokens.add(((com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(unused)).put("id", 1));
        tokens.add(((com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(entity)).put("id", next));
        root.putNull("padding"); // the fixture pads to 128; the vocab.txt directory does not
        root.putNull("truncation");
        Path jsonFile = dir.resolve("tokenizer.json");
        json.writeValue(jsonFile.toFile(), root);
        BertTokenizer fromVocab = BertTokenizer.fromDirectory(vocabDir), fromJson = BertTokenizer.fromTokenizerJson(jsonFile);
        assertEquals(List.of("[CLS]", "a", "foo", ".", "bar", "[unused0]", "b", "[SEP]"), fromVocab.encode("a foo.bar [unused0] b").tokens());
        for (String text : List.of("a foo.bar [unused0] b", "x <ENT> y<ent>z [UNUSED0]", "[unused0][unused0]<ent>", "<ent")) {
            Encoding v = fromVocab.encode(text), j = fromJson.encode(text);
            assertEquals(j.tokens(), v.tokens(), text);
            assertArrayEquals(j.ids(), v.ids(), text);
            assertArrayEquals(j.starts(), v.starts(), text);
            assertArrayEquals(j.ends(), v.ends(), text);
            assertEquals(fromJson.decode(j.ids(), true), fromVocab.decode(v.ids(), true), text);
        }
        assertEquals(next, fromVocab.tokenToId("<ent>"));

        Files.writeString(vocabDir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {\"1\": " + entity + "}}");
        assertEquals(vocabDir.resolve("vocab.txt") + " + " + vocabDir.resolve("tokenizer_config.json") + ": added token '<ent>' has id 1,"
                + " but the vocabulary gives that id to '[unused0]'; each id must name one token",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(vocabDir)).getMessage());
        Files.writeString(vocabDir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {\"" + (next + 5) + "\": " + entity + "}}");
        assertTrue(assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(vocabDir)).getMessage()
                .endsWith(": added token '<ent>' has id '" + (next + 5) + "', not one of the " + (next + 1)
                        + " ids of the vocabulary and added_tokens_decoder"));
    }

    /** The fixture's tokenizer.json with one flag of the [MASK] added token set. */
    private static BertTokenizer withMaskFlag(Path dir, String flag) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode root = json.readTree(ReferenceCasesTest.DIR.resolve("tokenizer.json").toFile());
        for (com.fasterxml.jackson.databind.JsonNode t : root.get("added_tokens")) {
            if (t.get("content").asText().equals("[MASK]")) ((com.fasterxml.jackson.databind.node.ObjectNode) t).put(flag, true);
        }
        Path file = dir.resolve(flag + ".json");
        json.writeValue(file.toFile(), root);
        return BertTokenizer.fromTokenizerJson(file);
    }

    @Test
    void loadsDirectoriesAndReportsBadFiles(@TempDir Path dir) throws Exception {
        Files.copy(ReferenceCasesTest.VOCAB, dir.resolve("vocab.txt"));
        BertTokenizer fromVocab = BertTokenizer.fromDirectory(dir);
        assertEquals(List.of("[CLS]", "hello", "[SEP]"), fromVocab.encode("Hello").tokens());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false}");
        assertEquals(List.of("[CLS]", "[UNK]", "[SEP]"), BertTokenizer.fromDirectory(dir).encode("Hello").tokens());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
        TokenizerException bpe = assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(dir));
        assertTrue(bpe.getMessage().contains("tokenizer.json") && bpe.getMessage().contains("WordPiece"), bpe.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{not json");
        assertTrue(assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(dir)).getMessage().contains("tokenizer.json"));
        TokenizerException missing = assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"));
    }

    @Test
    void namesWhatIsWrongWithAMalformedFile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": 3}");
        assertEquals(json + ": \"model\" must be an object",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
        Files.writeString(json, "{\"model\": {\"type\": \"WordPiece\"}}");
        assertEquals(json + ": model.vocab must be an object of token ids",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage());
        Files.writeString(json, "{\"model\": {\"vocab\": {}}");
        String m = assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(json)).getMessage();
        assertTrue(m.startsWith(json + ": not valid JSON: Unexpected end-of-input") && m.endsWith("(line 1, column 24)")
                && !m.contains("REDACTED"), m);

        Path vocabDir = Files.createDirectory(dir.resolve("vocab-only"));
        Path vocab = vocabDir.resolve("vocab.txt");
        Files.write(vocab, new byte[] {'[', 'P', 'A', 'D', ']', '\n', 'a', (byte) 0xff, '\n'});
        assertEquals(vocab + ": not valid UTF-8 at byte 7 (line 2)",
                assertThrows(TokenizerException.class, () -> BertTokenizer.fromDirectory(vocabDir)).getMessage());
    }

    /**
     * An id names one token. An added token saved with [UNK]'s id made every unknown word decode to its content
     * (a fuzzed file gave id 1 to an 80,000-char token: 240 MB allocated decoding the probe texts); tokenizers
     * would have numbered it anew. Such files are refused, with the token cut short in the message.
     */
    @Test
    void refusesAnIdGivenToTwoTokens(@TempDir Path dir) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String huge = "x\n".repeat(50_000);
        com.fasterxml.jackson.databind.node.ObjectNode root =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(ReferenceCasesTest.DIR.resolve("tokenizer.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.withArray("/added_tokens").get(1)).put("content", huge);  // [UNK], id 100
        Path addedOnUnk = dir.resolve("added-on-unk.json");
        json.writeValue(addedOnUnk.toFile(), root);
        String m = assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(addedOnUnk)).getMessage();
        assertTrue(m.contains("added-on-unk.json") && m.contains("has id 100, which model.vocab gives to '[UNK]'")
                && m.contains("(100000 chars)") && m.length() < 600 && !m.contains("\n"), m);

        root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(ReferenceCasesTest.DIR.resolve("tokenizer.json").toFile());
        root.withObject("/model").withObject("/vocab").put("another", 7592);  // the id of "hello"
        Path vocabTwice = dir.resolve("vocab-id-twice.json");
        json.writeValue(vocabTwice.toFile(), root);
        m = assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(vocabTwice)).getMessage();
        assertTrue(m.contains("vocab-id-twice.json") && m.contains("model.vocab gives id 7592 to both"), m);

        root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(ReferenceCasesTest.DIR.resolve("tokenizer.json").toFile());
        root.withArray("/added_tokens").addObject().put("id", 0).put("content", "<new>").put("special", true);  // [PAD]'s id
        Path addedTwice = dir.resolve("added-id-twice.json");
        json.writeValue(addedTwice.toFile(), root);
        m = assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(addedTwice)).getMessage();
        assertTrue(m.contains("added token '<new>' has id 0") && m.contains("'[PAD]'"), m);
        root.withArray("/added_tokens").remove(5);
        root.withArray("/added_tokens").addObject().put("id", 30522).put("content", "<a>");  // one past the vocabulary
        root.withArray("/added_tokens").addObject().put("id", 30522).put("content", "<b>");
        json.writeValue(addedTwice.toFile(), root);
        m = assertThrows(TokenizerException.class, () -> BertTokenizer.fromTokenizerJson(addedTwice)).getMessage();
        assertTrue(m.contains("added token '<b>' has id 30522, which an earlier added_tokens entry gives to '<a>'"), m);
    }
}
