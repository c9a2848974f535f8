package bertj.tokenizer;

import java.util.Arrays;

/**
 * tokenizers' {@code BertNormalizer}, applied one original character at a time: clean text (delete
 * control/format/private-use characters, NUL and U+FFFD; whitespace becomes a space), spaces around CJK
 * ideographs, accent stripping (NFD, then drop Unicode 8.0 Mn) and lower-casing (Rust
 * {@code char::to_lowercase}, per character, so no final-sigma rule). Every produced character remembers
 * the original character it came from, which is how tokenizers aligns offsets too: the pieces of a
 * decomposition or of a multi-character lower-case all map to the whole original character.
 *
 * <p>Not reproduced: canonical reordering of combining marks across characters. After Mn removal it can
 * only change the order of marks that Unicode 8.0 does not call Mn, which real text does not contain.
 */
final class BertNormalizer {
    final boolean cleanText;
    final boolean handleChineseChars;
    final boolean stripAccents;
    final boolean lowercase;
    private final UnicodeTables tables = UnicodeTables.get();
    /** What each ASCII character becomes: -1 deleted, else the character. */
    private final int[] ascii = new int[128];

    BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.handleChineseChars = handleChineseChars;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
        for (int c = 0; c < 128; c++) {
            int f = tables.flags(c);
            int out = c;
            if (cleanText && (f & UnicodeTables.DELETE) != 0) out = -1;
            else if (cleanText && (f & UnicodeTables.WHITESPACE) != 0) out = ' ';
            else if (lowercase && c >= 'A' && c <= 'Z') out = c + 32;
            ascii[c] = out;
        }
    }

    /** The identity normalizer (a tokenizer.json without a normalizer). */
    static BertNormalizer none() {
        return new BertNormalizer(false, false, false, false);
    }

    /** Normalized text: UTF-16 units, each with the original [start, end) (UTF-16) it came from. */
    static final class Text {
        char[] chars = new char[64];
        int[] start = new int[64];
        int[] end = new int[64];
        int length;
        /** Whether the original text had a surrogate (so code point and UTF-16 offsets may differ). */
        boolean surrogates;

        void clear() {
            length = 0;
            surrogates = false;
        }

        void ensure(int extra) {
            if (length + extra > chars.length) {
                int n = Math.max(chars.length * 2, length + extra);
                chars = Arrays.copyOf(chars, n);
                start = Arrays.copyOf(start, n);
                end = Arrays.copyOf(end, n);
            }
        }

        void append(int cp, int s, int e) {
            if (cp < Character.MIN_SUPPLEMENTARY_CODE_POINT) {
                chars[length] = (char) cp;
                start[length] = s;
                end[length++] = e;
            } else {
                chars[length] = Character.highSurrogate(cp);
                start[length] = s;
                end[length++] = e;
                chars[length] = Character.lowSurrogate(cp);
                start[length] = s;
                end[length++] = e;
            }
        }
    }

    /** Appends the normalization of {@code text[from, to)} to {@code out}. */
    void normalize(String text, int from, int to, Text out) {
        // ASCII maps to at most one char; other characters check for room themselves.
        out.ensure(to - from + 8);
        for (int i = from; i < to; ) {
            char ch = text.charAt(i);
            if (ch < 128) {
                int mapped = ascii[ch];
                if (mapped >= 0) {
                    out.chars[out.length] = (char) mapped;
                    out.start[out.length] = i;
                    out.end[out.length++] = i + 1;
                }
                i++;
                continue;
            }
            int cp = ch;
            int next = i + 1;
            if (Character.isSurrogate(ch)) out.surrogates = true;
            if (Character.isHighSurrogate(ch) && next < to && Character.isLowSurrogate(text.charAt(next))) {
                cp = Character.toCodePoint(ch, text.charAt(next));
                next++;
            } else if (Character.isSurrogate(ch)) {
                cp = 0xFFFD;   // a lone surrogate reaches the reference as U+FFFD
            }
            out.ensure(to - i + 64);
            normalizeCodePoint(cp, i, next, out);
            i = next;
        }
    }

    private void normalizeCodePoint(int cp, int s, int e, Text out) {
        int f = tables.flags(cp);
        if (cleanText) {
            if ((f & UnicodeTables.DELETE) != 0) return;
            if ((f & UnicodeTables.WHITESPACE) != 0) {
                cp = ' ';
                f = tables.flags(cp);
            }
        }
        boolean cjk = handleChineseChars && (f & UnicodeTables.CJK) != 0;
        if (cjk) out.append(' ', s, e);
        if (stripAccents && (f & (UnicodeTables.NONSPACING_MARK | UnicodeTables.DECOMPOSES)) != 0) {
            if ((f & UnicodeTables.DECOMPOSES) != 0) {
                for (int d : tables.strippedDecomposition(cp)) lower(d, s, e, out);
            }
        } else {
            lower(cp, s, e, out);
        }
        if (cjk) out.append(' ', s, e);
    }

    private void lower(int cp, int s, int e, Text out) {
        if (lowercase && (tables.flags(cp) & UnicodeTables.LOWER_CHANGES) != 0) {
            for (int l : tables.lowercase(cp)) out.append(l, s, e);
        } else {
            out.append(cp, s, e);
        }
    }

    /** The normalized string alone (for tests and diagnostics). */
    String normalize(String text) {
        Text out = new Text();
        normalize(text, 0, text.length(), out);
        return new String(out.chars, 0, out.length);
    }
}
