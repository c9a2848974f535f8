package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import bertj.testsupport.GuidedTargets;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of the tokenizer files (tokenizer.json, vocab.txt, tokenizer_config.json): loading ends in a tokenizer
 * or a {@link TokenizerException} with a message, and a tokenizer that loads encodes and decodes every probe
 * text (or refuses an impossible request with a TokenizerException), without hanging. See {@link FuzzHarness}
 * for the budget and {@code -Dbertj.fuzz.seconds} for a longer run.
 */
class TokenizerFuzzTest {
    private static final Predicate<Throwable> TOKENIZER = t -> t instanceof TokenizerException;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PROBES = List.of("Hello, world! unaffable", "", " \t\n", "Café DÉJÀ vu — naïve façade.",
            "東京は日本の首都です。", "lone \uD800 and \uDFFF surrogates", "nul\u0000inside", "[CLS] [MASK] x [SEP] [UNK] [PAD]",
            "x".repeat(150), "😀 emoji 🇫🇷", "the the the the the the the the the the the the the the the the the the");
    private static final List<String> WORDS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "##", "Right", "Left",
            "LongestFirst", "OnlyFirst", "OnlySecond", "BatchLongest", "Fixed", "WordPiece", "BPE", "BertNormalizer",
            "BertPreTokenizer", "Whitespace", "TemplateProcessing", "BertProcessing", "RobertaProcessing", "SpecialToken",
            "Sequence", "A", "B", "type", "type_id", "id", "ids", "tokens", "content", "special", "normalized", "single_word",
            "lstrip", "rstrip", "vocab", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "truncation",
            "padding", "max_length", "stride", "strategy", "direction", "pad_to_multiple_of", "pad_id", "pad_type_id",
            "pad_token", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model", "prefix",
            "cleanup", "lowercase", "strip_accents", "clean_text", "handle_chinese_chars", "single", "pair", "special_tokens",
            "do_lower_case", "model_max_length", "tokenize_chinese_chars", "cls_token", "sep_token", "mask_token",
            "the", "##s", "un", "##aff", "##able", "hello", "world");

    /** Where each execution writes its files (in memory when possible: see {@link FuzzHarness#scratch()}). */
    private FuzzHarness.Scratch scratch;
    private Path tmp;
    private final GuidedTargets guided = new GuidedTargets();

    @BeforeEach
    void createScratch() throws IOException {
        scratch = FuzzHarness.scratch();
        tmp = scratch.dir();
    }

    @AfterEach
    void deleteScratch() throws IOException {
        scratch.close();
    }

    @Test
    void tokenizerJsonFiles() throws IOException {
        tokenizerJson().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void tokenizerJsonFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "tokenizer-json", this::tokenizerJson);
    }

    private FuzzHarness.Fuzzing tokenizerJson() throws IOException {
        List<String> tokens = smallVocabulary();
        ObjectNode small = (ObjectNode) JSON.readTree(resource("tokenizer.json"));
        ObjectNode vocab = small.withObject("/model").putObject("vocab");
        for (int id = 0; id < tokens.size(); id++) vocab.put(tokens.get(id), id);
        for (JsonNode added : small.withArray("/added_tokens")) ((ObjectNode) added).put("id", tokens.indexOf(added.path("content").asText()));
        small.withObject("/post_processor").withObject("/special_tokens").withObject("/[CLS]").putArray("ids").add(tokens.indexOf("[CLS]"));
        small.withObject("/post_processor").withObject("/special_tokens").withObject("/[SEP]").putArray("ids").add(tokens.indexOf("[SEP]"));
        // a second style: BertProcessing, no truncation or padding, no decoder, cased with accents stripped
        ObjectNode other = small.deepCopy();
        other.remove(List.of("truncation", "padding", "decoder"));
        other.set("post_processor", JSON.readTree("{\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", " + tokens.indexOf("[SEP]")
                + "], \"cls\": [\"[CLS]\", " + tokens.indexOf("[CLS]") + "]}"));
        other.withObject("/normalizer").put("lowercase", false).put("strip_accents", true);
        byte[] config = resource("tokenizer_config.json");
        List<byte[]> seeds = List.of(FuzzMutator.join(List.of(FuzzMutator.toJson(small), config)),
                FuzzMutator.join(List.of(FuzzMutator.toJson(other), config)));
        FuzzMutator m = new FuzzMutator(WORDS);
        Path dir = Files.createDirectories(tmp.resolve("tokenizer-json"));
        return new FuzzHarness.Fuzzing("tokenizer-json", seeds, FuzzMutator.perPart(List.of(m::json, m::json)), input -> {
            writeParts(dir, input, "tokenizer.json", "tokenizer_config.json");
            exercise(BertTokenizer.fromDirectory(dir));
        }, TOKENIZER);
    }

    @Test
    void vocabTxtFiles() throws IOException {
        vocabTxt().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void vocabTxtFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "vocab-txt", this::vocabTxt);
    }

    private FuzzHarness.Fuzzing vocabTxt() throws IOException {
        byte[] vocab = String.join("\n", smallVocabulary()).getBytes(StandardCharsets.UTF_8);
        byte[] config = resource("tokenizer_config.json");
        byte[] cased = "{\"do_lower_case\": false, \"strip_accents\": true, \"model_max_length\": 16}".getBytes(StandardCharsets.UTF_8);
        List<byte[]> seeds = List.of(FuzzMutator.join(List.of(vocab, config)), FuzzMutator.join(List.of(vocab, cased)));
        FuzzMutator m = new FuzzMutator(WORDS);
        Path dir = Files.createDirectories(tmp.resolve("vocab-txt"));
        return new FuzzHarness.Fuzzing("vocab-txt", seeds, FuzzMutator.perPart(List.of(m::lines, m::json)), input -> {
            writeParts(dir, input, "vocab.txt", "tokenizer_config.json");
            exercise(BertTokenizer.fromDirectory(dir));
        }, TOKENIZER);
    }

    /**
     * A vocabulary small enough to load in microseconds: BERT's special tokens, bert-base-uncased's ASCII and
     * Latin-1 characters (its ids 999..1109) and a few words and sub-words, numbered 0..n-1.
     */
    private static List<String> smallVocabulary() throws IOException {
        List<String> bertBase = Files.readString(ReferenceCasesTest.VOCAB, StandardCharsets.UTF_8).lines().toList();
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        tokens.addAll(bertBase.subList(999, 1110));
        tokens.addAll(List.of("the", "of", "and", "to", "in", "is", "hello", "world", "un", "##aff", "##able", "##s", "##ing",
                "cafe", "vu", "deja", "naive", "facade", "東", "京", "日", "本", "##e", "##a", "##b"));
        return tokens;
    }

    /** Encodes and decodes every probe with the saved options and with truncation, windows and padding asked for. */
    private static void exercise(BertTokenizer tokenizer) {
        EncodeOptions windows = EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 12).withStride(3)
                .withReturnOverflowing(true);
        EncodeOptions padded = EncodeOptions.DEFAULT.withTruncation(Truncation.ONLY_SECOND, 20).withPadding(Padding.MAX_LENGTH)
                .withPadToMultipleOf(8);
        for (String text : PROBES) {
            check(tokenizer, attempt(() -> tokenizer.encode(text)));
            check(tokenizer, attempt(() -> tokenizer.encode(text, "a pair, with words", windows)));
            check(tokenizer, attempt(() -> tokenizer.encode("question?", text, padded)));
        }
        List<Encoding> batch = attempt(() -> tokenizer.encodeBatch(PROBES, null, EncodeOptions.DEFAULT.withPadding(Padding.LONGEST)));
        if (batch != null) {
            assertEquals(PROBES.size(), batch.size());
            batch.forEach(e -> check(tokenizer, e));
        }
        tokenizer.convertIdsToTokens(new int[] {-1, 0, Integer.MAX_VALUE, tokenizer.unkTokenId()});
        tokenizer.decode(new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE}, false);
    }

    /** The result of an encode, or null when it was refused with a TokenizerException (an impossible request). */
    private static <T> T attempt(java.util.function.Supplier<T> encode) {
        try {
            return encode.get();
        } catch (TokenizerException refused) {
            assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank());
            return null;
        }
    }

    /** An encoding's arrays agree with each other and decode back to text. */
    private static void check(BertTokenizer tokenizer, Encoding e) {
        if (e == null) return;
        int n = e.ids().length;
        for (int[] a : List.of(e.typeIds(), e.attentionMask(), e.specialTokensMask(), e.codePointStarts(), e.codePointEnds())) {
            assertEquals(n, a.length, "encoding arrays of different lengths");
        }
        assertEquals(n, e.tokens().size());
        tokenizer.decode(e.ids(), true);
        tokenizer.decode(e.ids(), false);
        for (Encoding w : e.overflowing()) check(tokenizer, w);
    }

    /** Writes each part of a multi-file input to its file; a part the mutations removed deletes its file. */
    private static void writeParts(Path dir, byte[] input, String... names) throws IOException {
        List<byte[]> parts = FuzzMutator.split(input);
        for (int i = 0; i < names.length; i++) {
            Path f = dir.resolve(names[i]);
            if (i < parts.size()) Files.write(f, parts.get(i));
            else Files.deleteIfExists(f);
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = TokenizerFuzzTest.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + name);
            return in.readAllBytes();
        }
    }
}
