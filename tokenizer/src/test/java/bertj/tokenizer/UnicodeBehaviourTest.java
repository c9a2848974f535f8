package bertj.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Every code point (surrogates aside) through each BertNormalizer step and the pre-tokenizer's classes,
 * against what tokenizers 0.23.2 does with it (unicode-reference-0.23.2.txt.gz, made by
 * src/test/reference/probe.js + expect.js). This pins the Unicode 8.0 Mn / P* / Cc / Cf / Co tables, Rust's
 * whitespace, the CJK ranges, the reference's NFD (no decompositions added after Unicode 12) and its
 * Unicode 17 lower-casing, whatever Unicode version the JDK has.
 */
class UnicodeBehaviourTest {
    private final Map<String, BitSet> sets = new HashMap<>();
    private final Map<Integer, String> stripped = new HashMap<>();
    private final Map<Integer, String> lowered = new HashMap<>();

    UnicodeBehaviourTest() throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                getClass().getResourceAsStream("unicode-reference-0.23.2.txt.gz")), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "S", "L" -> {
                        StringBuilder sb = new StringBuilder();
                        for (int i = 2; i < f.length; i++) sb.appendCodePoint(Integer.parseInt(f[i], 16));
                        (f[0].equals("S") ? stripped : lowered).put(Integer.parseInt(f[1], 16), sb.toString());
                    }
                    default -> {
                        BitSet set = sets.computeIfAbsent(f[0], k -> new BitSet());
                        for (int i = 1; i < f.length; i++) {
                            int dots = f[i].indexOf("..");
                            int from = Integer.parseInt(dots < 0 ? f[i] : f[i].substring(0, dots), 16);
                            int to = dots < 0 ? from : Integer.parseInt(f[i].substring(dots + 2), 16);
                            set.set(from, to + 1);
                        }
                    }
                }
            }
        }
    }

    private static String run(BertNormalizer n, String s, BertNormalizer.Text out) {
        out.clear();
        n.normalize(s, 0, s.length(), out);
        return new String(out.chars, 0, out.length);
    }

    @Test
    void theCompiledTablesHoldWhatTheTextFilesSay() {
        assertTrue(UnicodeTables.get().sameAs(UnicodeTables.fromText()),
                "src/main/resources/bertj/tokenizer/" + UnicodeTables.COMPILED + " is stale: rerun CompileUnicodeTables");
    }

    @Test
    void everyCodePointBehavesAsTheReference() {
        BertNormalizer clean = new BertNormalizer(true, false, false, false);
        BertNormalizer cjk = new BertNormalizer(false, true, false, false);
        BertNormalizer strip = new BertNormalizer(false, false, true, false);
        BertNormalizer lower = new BertNormalizer(false, false, false, true);
        UnicodeTables tables = UnicodeTables.get();
        BertNormalizer.Text out = new BertNormalizer.Text();
        List<String> mismatches = new ArrayList<>();
        int checked = 0;
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) continue;
            String c = Character.toString(cp);
            String hex = Integer.toHexString(cp);
            String cleanExpected = sets.get("delete").get(cp) ? "ab" : sets.get("whitespace").get(cp) ? "a b" : "a" + c + "b";
            if (!run(clean, "a" + c + "b", out).equals(cleanExpected)) mismatches.add("clean_text " + hex);
            String cjkExpected = sets.get("cjk").get(cp) ? " " + c + " " : c;
            if (!run(cjk, c, out).equals(cjkExpected)) mismatches.add("chinese " + hex);
            String stripExpected = sets.get("stripped").get(cp) ? "" : stripped.getOrDefault(cp, c);
            if (!run(strip, c, out).equals(stripExpected)) mismatches.add("strip_accents " + hex);
            if (!run(lower, c, out).equals(lowered.getOrDefault(cp, c))) mismatches.add("lowercase " + hex);
            int flags = tables.flags(cp);
            boolean whitespace = (flags & UnicodeTables.WHITESPACE) != 0;
            boolean punct = !whitespace && (flags & UnicodeTables.PUNCTUATION) != 0;
            if (whitespace != sets.get("split_ws").get(cp)) mismatches.add("whitespace " + hex);
            if (punct != sets.get("punct").get(cp)) mismatches.add("punctuation " + hex);
            checked++;
        }
        assertEquals(0x110000 - 0x800, checked);
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches, first: " + mismatches.subList(0, Math.min(20, mismatches.size())));
    }

    @Test
    void readmeExamples() {
        BertTokenizer t = ReferenceCasesTest.FROM_JSON;
        EncodeOptions plain = EncodeOptions.DEFAULT.withAddSpecialTokens(false);
        // Deleted characters join their neighbours; whitespace separates.
        assertEquals(t.encode("ab", null, plain).tokens(), t.encode("a\fb", null, plain).tokens());
        assertEquals(t.encode("ab", null, plain).tokens(), t.encode("a\u200bb", null, plain).tokens());
        assertEquals(List.of("a", "b"), t.encode("a\u00a0b", null, plain).tokens());
        // No final sigma: per-character lower-casing.
        assertEquals(t.encode("αληθεσ", null, plain).tokens(), t.encode("ΑΛΗΘΕΣ", null, plain).tokens());
        // Symbols are not punctuation, but NFD can make ASCII punctuation (≠ -> = + U+0338).
        assertEquals(List.of("5", "##€"), t.encode("5€", null, plain).tokens());
        assertEquals(List.of("a", "=", "b"), t.encode("a≠b", null, plain).tokens());
        // Every jamo piece of a Hangul syllable has the syllable's offsets.
        Encoding hangul = t.encode("한", null, plain);
        for (int i = 0; i < hangul.length(); i++) {
            assertEquals(0, hangul.starts()[i]);
            assertEquals(1, hangul.ends()[i]);
        }
        // Marks added after Unicode 8.0 are ordinary characters: U+1E944 (ADLAM, Unicode 9) is kept in the word.
        assertEquals(List.of("[UNK]"), t.encode("a\uD83A\uDD44", null, plain).tokens());
        assertEquals(List.of("a"), t.encode("a\u0301", null, plain).tokens());
        // Literal special tokens are split out before normalization, even inside a word, case-sensitively.
        assertEquals(List.of("x", "[SEP]", "y"), t.encode("x[SEP]y", null, plain).tokens());
        assertEquals(List.of("x", "[", "sep", "]", "y"), t.encode("x[sep]y", null, plain).tokens());
    }
}
