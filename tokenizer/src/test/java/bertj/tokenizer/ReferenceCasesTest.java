package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import bertj.fixtures.Fixtures;
import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the reference fixture (tokenizers 0.23.2 on all-MiniLM-L6-v2's tokenizer, see
 * /work/shared/fixtures/tokenizer/README.md), compared field by field, exactly, with the tokenizer loaded
 * from tokenizer.json and with the one loaded from vocab.txt + a bert-base-uncased tokenizer_config.json.
 */
class ReferenceCasesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path DIR = resourceDir();
    /** bert-base-uncased's vocab.txt, this tokenizer's vocabulary too, from the shared test fixtures. */
    static final Path VOCAB = Fixtures.vocab();
    static final BertTokenizer FROM_JSON = BertTokenizer.fromTokenizerJson(DIR.resolve("tokenizer.json"));
    static final BertTokenizer FROM_VOCAB = BertTokenizer.fromVocab(VOCAB, DIR.resolve("tokenizer_config.json"));

    static Path resourceDir() {
        try {
            return Path.of(ReferenceCasesTest.class.getResource("tokenizer.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> cases() {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(DIR.resolve("cases.jsonl"))) if (!line.isBlank()) out.add(JSON.readTree(line));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Arguments> allCases() {
        return cases().stream().flatMap(c -> Stream.of(
                Arguments.of(c.get("id").asText() + " " + c.get("kind").asText() + " [tokenizer.json]", c, FROM_JSON),
                Arguments.of(c.get("id").asText() + " " + c.get("kind").asText() + " [vocab.txt]", c, FROM_VOCAB)));
    }

    @Test
    void fixtureHasAllCases() {
        assertEquals(406, cases().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void matchesReference(String name, JsonNode c, BertTokenizer tokenizer) {
        EncodeOptions options = options(c.get("options"), tokenizer);
        if (c.get("kind").asText().equals("batch")) {
            List<String> texts = strings(c.get("texts"));
            List<String> pairs = c.has("text_pairs") ? strings(c.get("text_pairs")) : null;
            List<Encoding> got = tokenizer.encodeBatch(texts, pairs, options);
            JsonNode expected = c.get("encodings");
            assertEquals(expected.size(), got.size(), name);
            for (int i = 0; i < got.size(); i++) check(name + " #" + i, expected.get(i), got.get(i), tokenizer);
            return;
        }
        String text = c.get("text").asText();
        String pair = c.has("text_pair") ? c.get("text_pair").asText() : null;
        if (c.has("error")) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.encode(text, pair, options), name);
            assertEquals(c.get("error").asText(), e.getMessage(), name);
            return;
        }
        check(name, c, tokenizer.encode(text, pair, options), tokenizer);
        if (options.truncation() != EncodeOptions.Truncation.NONE) {
            // Asking for the overflowing windows must not change the main encoding.
            check(name + " (with windows)", c, tokenizer.encode(text, pair, options.withReturnOverflowing(true)), tokenizer);
        }
    }

    static void check(String name, JsonNode expected, Encoding got, BertTokenizer tokenizer) {
        assertArrayEquals(ints(expected.get("ids")), got.ids(), name + " ids");
        assertEquals(strings(expected.get("tokens")), got.tokens(), name + " tokens");
        assertArrayEquals(ints(expected.get("type_ids")), got.typeIds(), name + " type_ids");
        assertArrayEquals(ints(expected.get("attention_mask")), got.attentionMask(), name + " attention_mask");
        assertArrayEquals(ints(expected.get("special_tokens_mask")), got.specialTokensMask(), name + " special_tokens_mask");
        assertArrayEquals(column(expected.get("offsets"), 0), got.codePointStarts(), name + " offsets start");
        assertArrayEquals(column(expected.get("offsets"), 1), got.codePointEnds(), name + " offsets end");
        assertArrayEquals(column(expected.get("offsets_utf16"), 0), got.starts(), name + " offsets_utf16 start");
        assertArrayEquals(column(expected.get("offsets_utf16"), 1), got.ends(), name + " offsets_utf16 end");
        assertArrayEquals(ints(expected.get("word_ids")), got.wordIds(), name + " word_ids");
        assertArrayEquals(ints(expected.get("sequence_ids")), got.sequenceIds(), name + " sequence_ids");
        assertEquals(expected.get("decoded").asText(), tokenizer.decode(got.ids(), true), name + " decoded");
        if (expected.has("decoded_with_special")) {
            assertEquals(expected.get("decoded_with_special").asText(), tokenizer.decode(got.ids(), false), name + " decoded_with_special");
        }
    }

    /** The case's settings; "tokenizer.json" means the shipped configuration (truncation 128 + fixed padding 128). */
    static EncodeOptions options(JsonNode o, BertTokenizer tokenizer) {
        if (o == null || o.isNull()) return EncodeOptions.DEFAULT;
        if (o.isTextual()) {
            return tokenizer == FROM_JSON ? tokenizer.defaultOptions()
                    : EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 128).withPadding(Padding.MAX_LENGTH, 128);
        }
        EncodeOptions options = EncodeOptions.DEFAULT;
        if (o.has("add_special_tokens")) options = options.withAddSpecialTokens(o.get("add_special_tokens").asBoolean());
        JsonNode t = o.get("truncation");
        if (t != null) {
            Truncation strategy = Truncation.valueOf(t.get("strategy").asText().toUpperCase());
            options = options.withTruncation(strategy, t.get("max_length").asInt()).withStride(t.path("stride").asInt(0));
        }
        JsonNode p = o.get("padding");
        if (p != null) {
            options = switch (p.get("strategy").asText()) {
                case "fixed" -> options.withPadding(Padding.MAX_LENGTH, p.get("length").asInt());
                case "batch_longest" -> options.withPadding(Padding.LONGEST);
                default -> throw new IllegalArgumentException("padding " + p);
            };
        }
        return options;
    }

    static int[] ints(JsonNode array) {
        int[] r = new int[array.size()];
        for (int i = 0; i < r.length; i++) r[i] = array.get(i).isNull() ? -1 : array.get(i).asInt();
        return r;
    }

    static int[] column(JsonNode pairs, int k) {
        int[] r = new int[pairs.size()];
        for (int i = 0; i < r.length; i++) r[i] = pairs.get(i).get(k).asInt();
        return r;
    }

    static List<String> strings(JsonNode array) {
        List<String> r = new ArrayList<>();
        for (JsonNode n : array) r.add(n.asText());
        return r;
    }
}
