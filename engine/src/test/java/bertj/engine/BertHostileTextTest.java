package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.ThreadPool;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import bertj.tokenizer.TokenizerException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Strange and huge texts through every entry point of {@link Bert} and its tokenizer: empty, blank, 1 MB, far
 * beyond the model's positions, every Unicode plane, lone surrogates, NUL, a storm of combining marks. Each call
 * returns a well-formed result or refuses with a documented exception and a clear message, within a generous
 * time limit (a guard against hangs, not a speed test).
 */
class BertHostileTextTest {
    /** Far more than any of these inputs needs; only a hang or a quadratic blow-up comes near it. */
    private static final Duration HANG_GUARD = Duration.ofMinutes(2);

    private static ThreadPool pool;
    private static Bert plain, seqcls, tokcls, qa;

    @BeforeAll
    static void load() {
        pool = new ThreadPool(2);
        plain = Bert.load(BertReliabilityTest.model("tiny-bert"), pool);
        seqcls = Bert.load(BertReliabilityTest.model("tiny-bert-seqcls"), pool);
        tokcls = Bert.load(BertReliabilityTest.model("tiny-bert-tokcls"), pool);
        qa = Bert.load(BertReliabilityTest.model("tiny-bert-qa"), pool);
    }

    @AfterAll
    static void close() {
        for (Bert b : new Bert[] {plain, seqcls, tokcls, qa}) if (b != null) b.close();
        pool.close();
    }

    /** The hostile texts, by name. */
    private static Map<String, String> texts() {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("empty", "");
        t.put("whitespace only", " \t\n\r\u00A0\u2003\u3000\u200B\uFEFF ");
        t.put("NUL", "\u0000");
        t.put("NULs inside words", "a\u0000b c\u0000\u0000d \u0000");
        t.put("lone high surrogate", "\uD800");
        t.put("lone low surrogate", "x\uDC00y");
        t.put("surrogates in the wrong order", "\uDC00\uD800 text \uDBFF\uDBFF");
        t.put("every Unicode plane", everyPlane());
        t.put("combining mark storm", "e" + "\u0301".repeat(20_000) + " ok");
        t.put("one 1 MB word", "a".repeat(1 << 20));
        t.put("1 MB of words", "The quick brown fox jumps over the lazy dog. ".repeat((1 << 20) / 45));
        t.put("1 MB of CJK", "東京は日本の首都です。".repeat((1 << 20) / 11));
        t.put("control characters", "\u0001\u0002\u0007\u001B[31mred\u001B[0m\u007F\u0085\u2028\u2029");
        return t;
    }

    /** A code point from every 4099th position of the code space, surrogates skipped: all 17 planes, assigned or not. */
    private static String everyPlane() {
        StringBuilder sb = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp += 4099) {
            if (!Character.isSurrogate((char) cp) || cp > 0xFFFF) sb.appendCodePoint(cp).append(cp % 3 == 0 ? " " : "");
        }
        for (int plane = 0; plane <= 16; plane++) sb.appendCodePoint(plane << 16 | 0x41).append(' ');
        return sb.toString();
    }

    private static <T> T withinGuard(String name, Supplier<T> call) {
        return assertTimeoutPreemptively(HANG_GUARD, call::get, name);
    }

    @Test
    void embedTruncatesAndNeverFails() {
        for (Map.Entry<String, String> e : texts().entrySet()) {
            float[] v = withinGuard(e.getKey(), () -> plain.embed(e.getValue()));
            assertEquals(32, v.length, e.getKey());
            for (float x : v) assertTrue(Float.isFinite(x), e.getKey() + ": non-finite embedding");
        }
        // a batch of all of them at once, in another order: the same vectors
        List<String> all = new ArrayList<>(texts().values());
        float[][] batch = withinGuard("batch", () -> plain.embed(all.reversed()));
        for (int i = 0; i < all.size(); i++) assertArrayEquals(plain.embed(all.get(i)), batch[all.size() - 1 - i], 1e-5f);
    }

    /** Truncation keeps the first max_length tokens: a text of 1000 words embeds as its first 62 (plus [CLS], [SEP]). */
    @Test
    void aTextFarLongerThanTheModelEmbedsAsItsTruncation() {
        int keep = plain.maxLength() - 2;
        float[] truncated = withinGuard("long", () -> plain.embed("word ".repeat(1000)));
        assertArrayEquals(plain.embed("word ".repeat(keep)), truncated, 0f);
    }

    @Test
    void encodeWithoutTruncationRefusesTooLongInputClearly() {
        for (Map.Entry<String, String> e : texts().entrySet()) {
            Encoding tokens = withinGuard(e.getKey(), () -> plain.tokenizer().encode(e.getValue(), null, EncodeOptions.DEFAULT));
            int positions = plain.model().config().maxPositionEmbeddings();
            if (tokens.length() <= positions) {
                Bert.Encoded out = withinGuard(e.getKey(), () -> plain.encode(List.of(e.getValue()), null, false));
                assertEquals(tokens.length(), out.output().lastHiddenState()[0].length, e.getKey());
            } else {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                        () -> withinGuard(e.getKey(), () -> plain.encode(List.of(e.getValue()), null, false)), e.getKey());
                assertTrue(refused.getMessage().contains("sequence length " + tokens.length()
                        + " is longer than max_position_embeddings " + positions), refused.getMessage());
                assertTrue(refused.getMessage().contains("truncate"), refused.getMessage());
            }
        }
    }

    /** Offsets point into the text, decode does not fail, and the special-token layout holds for every text. */
    @Test
    void tokenizationIsWellFormedOnEveryText() {
        for (Map.Entry<String, String> e : texts().entrySet()) {
            String text = e.getValue();
            Encoding enc = withinGuard(e.getKey(), () -> plain.tokenizer().encode(text));
            int n = enc.length();
            assertEquals(plain.tokenizer().clsTokenId(), enc.ids()[0], e.getKey());
            assertEquals(plain.tokenizer().sepTokenId(), enc.ids()[n - 1], e.getKey());
            int[] starts = enc.starts(), ends = enc.ends();
            for (int i = 0; i < n; i++) {
                assertTrue(0 <= starts[i] && starts[i] <= ends[i] && ends[i] <= text.length(), e.getKey() + ": offsets at " + i);
            }
            withinGuard(e.getKey(), () -> plain.tokenizer().decode(enc.ids(), true));
        }
    }

    @Test
    void headsAnswerOrRefuseClearly() {
        for (Map.Entry<String, String> e : texts().entrySet()) {
            String name = e.getKey(), text = e.getValue();
            Results.Classification c = withinGuard(name, () -> seqcls.classify(text, null, true));
            assertEquals(1.0, c.probabilities().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9, name);
            withinGuard(name, () -> seqcls.classify(text, text, true));
            List<Results.Entity> entities = withinGuard(name, () -> tokcls.entities(text, true));
            for (Results.Entity ent : entities) assertEquals(text.substring(ent.start(), ent.end()), ent.text(), name);
            // contexts cut to 64 K code points: a 1 MB context is 40 000 windows, minutes of encoder time on this machine
            String context = text.substring(0, text.offsetByCodePoints(0, Math.min(text.codePointCount(0, text.length()), 1 << 16)));
            Results.Answer a = withinGuard(name, () -> qa.answer("Where is it?", context));
            assertEquals(context.substring(a.start(), a.end()), a.text(), name);
            // untruncated input longer than the model: a clear refusal, not a failure deep inside
            if (seqcls.tokenizer().encode(text, null, EncodeOptions.DEFAULT).length() > seqcls.maxLength()) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> seqcls.classify(text), name);
                assertTrue(refused.getMessage().contains("longer than this model's maximum of " + seqcls.maxLength()), refused.getMessage());
            }
            // a question too long to leave room for any context cannot be answered: a TokenizerException says so
            try {
                withinGuard(name, () -> qa.answer(text, "A short context."));
            } catch (TokenizerException refused) {
                assertTrue(refused.getMessage().startsWith("the question is ") && refused.getMessage().contains("too long"),
                        name + ": " + refused.getMessage());
            }
        }
    }
}
