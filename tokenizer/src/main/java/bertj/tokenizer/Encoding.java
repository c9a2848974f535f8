package bertj.tokenizer;

import java.util.List;

/**
 * The result of encoding a text or a text pair, as Hugging Face's {@code Encoding}: one entry per token.
 * Offsets are [start, end) into the original string of the token's sequence ({@code text} for sequence 0,
 * {@code pair} for sequence 1), in UTF-16 units ({@link #starts()}/{@link #ends()}, Java's String indices)
 * and in Unicode code points ({@link #codePointStarts()}/{@link #codePointEnds()}, what Python returns).
 * Special and padding tokens have offsets (0, 0), word id -1 and sequence id -1.
 * Immutable; every accessor returns a copy.
 */
public final class Encoding {
    private final int[] ids;
    private final String[] vocabulary;   // id -> token, shared with the tokenizer
    private final int[] typeIds, attentionMask, specialTokensMask, starts, ends, cpStarts, cpEnds, wordIds, sequenceIds;
    private final List<Encoding> overflowing;

    Encoding(int[] ids, String[] vocabulary, int[] typeIds, int[] attentionMask, int[] specialTokensMask, int[] starts, int[] ends,
             int[] cpStarts, int[] cpEnds, int[] wordIds, int[] sequenceIds, List<Encoding> overflowing) {
        this.ids = ids;
        this.vocabulary = vocabulary;
        this.typeIds = typeIds;
        this.attentionMask = attentionMask;
        this.specialTokensMask = specialTokensMask;
        this.starts = starts;
        this.ends = ends;
        this.cpStarts = cpStarts;
        this.cpEnds = cpEnds;
        this.wordIds = wordIds;
        this.sequenceIds = sequenceIds;
        this.overflowing = List.copyOf(overflowing);
    }

    /** Number of tokens, padding included. */
    public int length() {
        return ids.length;
    }

    public int[] ids() {
        return ids.clone();
    }

    public List<String> tokens() {
        String[] tokens = new String[ids.length];
        for (int i = 0; i < ids.length; i++) tokens[i] = vocabulary[ids[i]];
        return List.of(tokens);
    }

    /** Token type (segment) ids: 0 for the first sequence and its special tokens, 1 for the second. */
    public int[] typeIds() {
        return typeIds.clone();
    }

    /** 1 for real tokens, 0 for padding. */
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** 1 for tokens added by the post-processor ([CLS], [SEP]) and padding; 0 for tokens of the text. */
    public int[] specialTokensMask() {
        return specialTokensMask.clone();
    }

    /** Start offsets in UTF-16 units. */
    public int[] starts() {
        return starts.clone();
    }

    /** End offsets (exclusive) in UTF-16 units. */
    public int[] ends() {
        return ends.clone();
    }

    /** Start offsets in code points (a lone surrogate counts as one). */
    public int[] codePointStarts() {
        return cpStarts.clone();
    }

    /** End offsets (exclusive) in code points. */
    public int[] codePointEnds() {
        return cpEnds.clone();
    }

    /** [token][start, end] in code points, as Python's {@code offset_mapping}. */
    public int[][] codePointOffsets() {
        int[][] r = new int[ids.length][];
        for (int i = 0; i < r.length; i++) r[i] = new int[] {cpStarts[i], cpEnds[i]};
        return r;
    }

    /** Index of the pre-token (word) within its sequence, -1 for special and padding tokens. */
    public int[] wordIds() {
        return wordIds.clone();
    }

    /** 0 or 1 for tokens of the first or second sequence, -1 for special and padding tokens. */
    public int[] sequenceIds() {
        return sequenceIds.clone();
    }

    /**
     * The windows that did not fit when truncating with {@code returnOverflowing}, each a complete encoding
     * with its own special tokens (and padding). A window's own {@code overflowing()} is empty.
     */
    public List<Encoding> overflowing() {
        return overflowing;
    }

    @Override
    public String toString() {
        return "Encoding" + tokens();
    }
}
