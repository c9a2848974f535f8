package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Seeded random inputs: no exceptions, sane offsets, and every offset slices the token's surface form. */
class PropertyTest {
    private static final BertTokenizer T = ReferenceCasesTest.FROM_JSON;
    private static final BertNormalizer NORMALIZER = new BertNormalizer(true, true, true, true);
    private static final String[] SPECIAL = {"[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]"};

    /** A random string mixing every plane, lone surrogates, marks, controls, spaces, long words and special literals. */
    static String randomText(Random r, int maxPieces) {
        StringBuilder sb = new StringBuilder();
        int pieces = r.nextInt(maxPieces + 1);
        for (int p = 0; p < pieces; p++) {
            switch (r.nextInt(12)) {
                case 0 -> sb.appendCodePoint(r.nextInt(Character.MAX_CODE_POINT + 1));     // any code point, surrogates too
                case 1 -> sb.append((char) (0xD800 + r.nextInt(0x800)));                       // lone surrogate
                case 2 -> sb.appendCodePoint(0x300 + r.nextInt(0x70));                           // combining marks
                case 3 -> sb.append((char) r.nextInt(0x20)).append('\u0085').append('\u200b');  // controls / format
                case 4 -> sb.append(" \t\n\u00a0\u3000".charAt(r.nextInt(5)));
                case 5 -> sb.append("x".repeat(90 + r.nextInt(30)));                             // around the 100-char limit
                case 6 -> sb.append(SPECIAL[r.nextInt(SPECIAL.length)]);
                case 7 -> sb.appendCodePoint(0x4E00 + r.nextInt(0x5000));                        // CJK
                case 8 -> sb.appendCodePoint(0xAC00 + r.nextInt(11172));                         // Hangul
                case 9 -> sb.appendCodePoint(0x1F300 + r.nextInt(0x300));                        // emoji
                case 10 -> sb.append("Héllo, WORLD! it's İstanbul ΑΛΗΘΕΣ 5€ a≠b don't");
                default -> sb.appendCodePoint(0x20 + r.nextInt(0x250));                          // Latin-ish
            }
        }
        return sb.toString();
    }

    @Test
    void randomTextsGiveConsistentEncodings() {
        Random r = new Random(42);
        for (int i = 0; i < 3000; i++) {
            String text = randomText(r, 12);
            String pair = r.nextBoolean() ? randomText(r, 8) : null;
            Encoding e = T.encode(text, pair, EncodeOptions.DEFAULT);
            checkEncoding(text, pair, e);
            // Decoding and truncation never throw on such input either.
            T.decode(e.ids(), r.nextBoolean());
            T.encode(text, pair, EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 8 + r.nextInt(20))
                    .withStride(r.nextInt(2)).withReturnOverflowing(r.nextBoolean()).withPadding(Padding.MAX_LENGTH, 32));
        }
    }

    @Test
    void emptyAndBlankInputs() {
        for (String s : new String[] {"", " ", "\t\n\r ", "\u200b\u200d\ufeff", "\u0000", "\ufffd", "\ud800", "\udc00\ud800"}) {
            Encoding e = T.encode(s, null, EncodeOptions.DEFAULT);
            assertEquals(List.of("[CLS]", "[SEP]"), e.tokens(), "input " + escape(s));
            assertEquals("", T.decode(e.ids(), true));
        }
    }

    @Test
    void hugeInputsStayLinear() {
        // A 1 MB word is one [UNK]; 1 MB of words is tokenized entirely (no timing assertion, just completion).
        String word = "a".repeat(1 << 20);
        Encoding one = T.encode(word, null, EncodeOptions.DEFAULT);
        assertEquals(List.of("[CLS]", "[UNK]", "[SEP]"), one.tokens());
        assertEquals(word.length(), one.ends()[1]);
        String text = "The quick brown fox, jumps over the lazy dog. ".repeat((1 << 20) / 46);
        Encoding many = T.encode(text, null, EncodeOptions.DEFAULT);
        assertEquals(2 + 11 * ((1 << 20) / 46), many.length());
        Encoding truncated = T.encode(text, null, EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, 512));
        assertEquals(512, truncated.length());
    }

    @Test
    void concurrentEncodingMatchesSequential() throws Exception {
        Random r = new Random(7);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) texts.add(randomText(r, 20));
        List<List<String>> expected = texts.stream().map(t -> T.encode(t, null, EncodeOptions.DEFAULT).tokens()).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                results.add(pool.submit(() -> {
                    for (int rep = 0; rep < 5; rep++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!T.encode(texts.get(i), null, EncodeOptions.DEFAULT).tokens().equals(expected.get(i))) return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Offsets in range and monotone per sequence; each word's pieces spell its normalized surface form
     * (the normalizer pads a CJK character with spaces, hence the strip).
     */
    static void checkEncoding(String text, String pair, Encoding e) {
        int[] seq = e.sequenceIds(), starts = e.starts(), ends = e.ends(), words = e.wordIds(), cpStarts = e.codePointStarts();
        int[] cpEnds = e.codePointEnds(), special = e.specialTokensMask();
        List<String> tokens = e.tokens();
        int[] lastStart = {-1, -1};
        int n = e.length();
        for (int i = 0; i < n; i++) {
            if (seq[i] < 0) {
                assertEquals(1, special[i]);
                assertEquals(0, starts[i]);
                assertEquals(0, ends[i]);
                continue;
            }
            String s = seq[i] == 0 ? text : pair;
            String where = "token " + i + " " + tokens.get(i) + " of " + escape(s);
            assertTrue(0 <= starts[i] && starts[i] < ends[i] && ends[i] <= s.length(), where + " offsets " + starts[i] + ".." + ends[i]);
            assertTrue(starts[i] >= lastStart[seq[i]], where + " starts before the previous token");
            lastStart[seq[i]] = starts[i];
            assertEquals(s.codePointCount(0, starts[i]), cpStarts[i], where + " code point start");
            assertEquals(s.codePointCount(0, ends[i]), cpEnds[i], where + " code point end");
        }
        // Group the pieces of each word and compare with the normalized original span.
        for (int i = 0; i < n; ) {
            if (seq[i] < 0) {
                i++;
                continue;
            }
            int j = i;
            StringBuilder spelled = new StringBuilder();
            boolean unknownOrLiteral = false;
            while (j < n && seq[j] == seq[i] && words[j] == words[i]) {
                String token = tokens.get(j);
                unknownOrLiteral |= token.equals("[UNK]") || List.of(SPECIAL).contains(token);
                spelled.append(j > i && token.startsWith("##") ? token.substring(2) : token);
                j++;
            }
            String s = seq[i] == 0 ? text : pair;
            String original = s.substring(starts[i], ends[j - 1]);
            if (!unknownOrLiteral) {
                assertEquals(NORMALIZER.normalize(original).strip(), spelled.toString(), "word " + escape(original) + " in " + escape(s));
            } else if (j - i == 1 && List.of(SPECIAL).contains(tokens.get(i)) && !tokens.get(i).equals("[UNK]")) {
                assertEquals(tokens.get(i), original, "literal special token");
            }
            i = j;
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(s.length(), 200); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }
}
