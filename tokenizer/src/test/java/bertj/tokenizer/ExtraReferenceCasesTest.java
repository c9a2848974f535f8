package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 394 of 400 more cases produced by tokenizers 0.23.2 (src/test/reference/extra.js): seeded random mixes of
 * fixture fragments and hard characters, with ONLY_FIRST, max_length below the special tokens, stride with
 * overflowing windows (every sequence fits in max_length there, so the reference's early exit cuts nothing
 * and its windows are complete), pad_to_multiple_of.
 */
class ExtraReferenceCasesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BertTokenizer TOKENIZER = ReferenceCasesTest.FROM_JSON;

    static Stream<JsonNode> cases() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(ReferenceCasesTest.DIR.resolve("extra_cases.jsonl"))) out.add(JSON.readTree(line));
        // EncodeOptions reads max_length 0 as "no limit", so the reference's max_length 0 cases do not apply.
        return out.stream().filter(c -> c.get("options").path("truncation").path("max_length").asInt(-1) != 0);
    }

    @Test
    void hasCases() throws IOException {
        assertEquals(394, cases().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(JsonNode c) {
        String name = c.get("id").asText();
        JsonNode o = c.get("options");
        EncodeOptions options = EncodeOptions.DEFAULT.withAddSpecialTokens(o.get("add_special_tokens").asBoolean());
        if (o.has("truncation")) {
            JsonNode t = o.get("truncation");
            Truncation strategy = switch (t.get("strategy").asText()) {
                case "LongestFirst" -> Truncation.LONGEST_FIRST;
                case "OnlyFirst" -> Truncation.ONLY_FIRST;
                default -> Truncation.ONLY_SECOND;
            };
            options = options.withTruncation(strategy, t.get("max_length").asInt()).withStride(t.get("stride").asInt())
                    .withReturnOverflowing(o.path("overflowing").asBoolean(false));
        }
        if (o.has("padding")) {
            JsonNode p = o.get("padding");
            options = p.get("strategy").asText().equals("fixed")
                    ? options.withPadding(Padding.MAX_LENGTH, p.get("length").asInt())
                    : options.withPadding(Padding.LONGEST);
            if (p.hasNonNull("pad_to_multiple_of")) options = options.withPadToMultipleOf(p.get("pad_to_multiple_of").asInt());
        }
        String text = c.get("text").asText();
        String pair = c.get("text_pair").isNull() ? null : c.get("text_pair").asText();
        EncodeOptions finalOptions = options;
        if (c.has("error")) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> TOKENIZER.encode(text, pair, finalOptions), name);
            assertEquals(c.get("error").asText(), e.getMessage(), name);
            return;
        }
        Encoding got = TOKENIZER.encode(text, pair, options);
        check(name, c, got);
        assertEquals(c.get("decoded").asText(), TOKENIZER.decode(got.ids(), true), name + " decoded");
        assertEquals(c.get("decoded_with_special").asText(), TOKENIZER.decode(got.ids(), false), name + " decoded_with_special");
        if (o.has("truncation") && !options.returnOverflowing()) {
            // With windows requested the main encoding is unchanged, and the reference's windows (which stop
            // where its early exit stopped tokenizing) are the start of ours when one sequence is windowed.
            Encoding withWindows = TOKENIZER.encode(text, pair, options.withReturnOverflowing(true));
            check(name + " (with windows)", c, withWindows);
            JsonNode windows = c.get("overflowing");
            boolean oneSequenceWindowed = pair == null || options.truncation() != Truncation.LONGEST_FIRST;
            if (oneSequenceWindowed && windows.size() > 0) {
                assertTrue(withWindows.overflowing().size() >= windows.size(), name + " number of windows");
                for (int i = 0; i < windows.size() - 1; i++) check(name + " window " + i, windows.get(i), withWindows.overflowing().get(i));
                if (pair != null && options.truncation() == Truncation.ONLY_FIRST) return;   // the cut is mid-window there
                int[] last = ReferenceCasesTest.ints(windows.get(windows.size() - 1).get("ids"));
                int[] mine = withWindows.overflowing().get(windows.size() - 1).ids();
                assertTrue(mine.length >= last.length, name + " last window");
                assertArrayEquals(java.util.Arrays.copyOf(last, last.length - 1), java.util.Arrays.copyOf(mine, last.length - 1),
                        name + " last window starts as the reference's");
            }
        }
        if (options.returnOverflowing()) {
            JsonNode windows = c.get("overflowing");
            assertEquals(windows.size(), got.overflowing().size(), name + " number of windows");
            for (int i = 0; i < windows.size(); i++) check(name + " window " + i, windows.get(i), got.overflowing().get(i));
        }
    }

    private static void check(String name, JsonNode e, Encoding got) {
        assertArrayEquals(ReferenceCasesTest.ints(e.get("ids")), got.ids(), name + " ids");
        assertEquals(ReferenceCasesTest.strings(e.get("tokens")), got.tokens(), name + " tokens");
        assertArrayEquals(ReferenceCasesTest.ints(e.get("type_ids")), got.typeIds(), name + " type_ids");
        assertArrayEquals(ReferenceCasesTest.ints(e.get("attention_mask")), got.attentionMask(), name + " attention_mask");
        assertArrayEquals(ReferenceCasesTest.ints(e.get("special_tokens_mask")), got.specialTokensMask(), name + " special_tokens_mask");
        assertArrayEquals(ReferenceCasesTest.column(e.get("offsets"), 0), got.codePointStarts(), name + " offsets start");
        assertArrayEquals(ReferenceCasesTest.column(e.get("offsets"), 1), got.codePointEnds(), name + " offsets end");
        assertArrayEquals(ReferenceCasesTest.ints(e.get("word_ids")), got.wordIds(), name + " word_ids");
        assertArrayEquals(ReferenceCasesTest.ints(e.get("sequence_ids")), got.sequenceIds(), name + " sequence_ids");
    }
}
