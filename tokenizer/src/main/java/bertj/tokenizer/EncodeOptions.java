package bertj.tokenizer;

/**
 * How to encode: special tokens, truncation, padding and overflowing windows, with the meanings of
 * Hugging Face tokenizers. Build from {@link #DEFAULT} (special tokens, no truncation, no padding) or
 * {@link BertTokenizer#defaultOptions()} with the {@code with...} methods.
 *
 * @param addSpecialTokens  add the post-processor's tokens ([CLS] A [SEP] / [CLS] A [SEP] B [SEP])
 * @param maxLength         total length truncation aims for, special tokens included; null = the model's
 *                          {@code model_max_length} when truncating
 * @param truncation        which sequence(s) to shorten; {@code NONE} ignores {@code maxLength}
 * @param stride            tokens shared by consecutive overflowing windows (must be below the room left
 *                          for the truncated sequence)
 * @param padding           {@code LONGEST}: to the longest encoding of the batch; {@code MAX_LENGTH}: to
 *                          {@code padLength}, else {@code maxLength}, else {@code model_max_length}.
 *                          Padding never truncates, and never pads past {@link #MAX_PAD_LENGTH} tokens.
 * @param padLength         target of {@code MAX_LENGTH} padding; null = see {@code padding}; at most
 *                          {@link #MAX_PAD_LENGTH}
 * @param padToMultipleOf   round the padding target up to a multiple of this (0 = off); at most
 *                          {@link #MAX_PAD_LENGTH}
 * @param returnOverflowing keep the cut-off tokens as {@link Encoding#overflowing()} windows, each with its
 *                          own special tokens (for ONLY_SECOND the first sequence repeats in every window).
 *                          The main encoding is the same either way: as tokenizers 0.23, which counts a
 *                          truncatable sequence only up to the word reaching {@code maxLength} tokens (this
 *                          can change how {@code LONGEST_FIRST} splits a pair). The windows, unlike 0.23's,
 *                          run to the end of the text (0.23's stop where its early exit stopped).
 */
public record EncodeOptions(boolean addSpecialTokens, Integer maxLength, Truncation truncation, int stride,
                            Padding padding, Integer padLength, int padToMultipleOf, boolean returnOverflowing) {

    public enum Truncation { NONE, LONGEST_FIRST, ONLY_FIRST, ONLY_SECOND }

    public enum Padding { NONE, LONGEST, MAX_LENGTH }

    /**
     * The longest an encoding may be padded to (65,536 tokens): far beyond any BERT's positions, yet an encoding
     * padded to it takes 2 MB, not the gigabytes that a length of two billion would ask for. A padding target
     * above it ({@code padLength}, {@code padToMultipleOf}, or the {@code maxLength} or {@code model_max_length}
     * that {@code MAX_LENGTH} padding falls back on) is refused with an {@link IllegalArgumentException} before
     * anything is allocated for it; an encoding that is already longer is left as it is.
     */
    public static final int MAX_PAD_LENGTH = 1 << 16;

    /** Special tokens, no truncation, no padding, no overflowing windows. */
    public static final EncodeOptions DEFAULT =
            new EncodeOptions(true, null, Truncation.NONE, 0, Padding.NONE, null, 0, false);

    public EncodeOptions {
        if (truncation == null) throw new IllegalArgumentException("truncation must not be null (use Truncation.NONE)");
        if (padding == null) throw new IllegalArgumentException("padding must not be null (use Padding.NONE)");
        if (maxLength != null && maxLength < 0) throw new IllegalArgumentException("maxLength must be >= 0, got " + maxLength);
        if (maxLength != null && maxLength == 0) maxLength = null;
        if (stride < 0) throw new IllegalArgumentException("stride must be >= 0, got " + stride);
        if (padLength != null && (padLength < 0 || padLength > MAX_PAD_LENGTH)) {
            throw new IllegalArgumentException("padLength must be from 0 to " + MAX_PAD_LENGTH + " tokens, got " + padLength);
        }
        if (padToMultipleOf < 0 || padToMultipleOf > MAX_PAD_LENGTH) {
            throw new IllegalArgumentException("padToMultipleOf must be from 0 to " + MAX_PAD_LENGTH + ", got " + padToMultipleOf);
        }
    }

    public EncodeOptions withAddSpecialTokens(boolean add) {
        return new EncodeOptions(add, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    /** Truncation with a strategy and a total length ({@code null} = model_max_length). */
    public EncodeOptions withTruncation(Truncation strategy, Integer maxLength) {
        return new EncodeOptions(addSpecialTokens, maxLength, strategy, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    public EncodeOptions withMaxLength(Integer maxLength) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    public EncodeOptions withStride(int stride) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    public EncodeOptions withPadding(Padding padding) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    /** {@code MAX_LENGTH} padding to {@code padLength} tokens. */
    public EncodeOptions withPadding(Padding padding, Integer padLength) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }

    public EncodeOptions withPadToMultipleOf(int multiple) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, multiple, returnOverflowing);
    }

    public EncodeOptions withReturnOverflowing(boolean returnOverflowing) {
        return new EncodeOptions(addSpecialTokens, maxLength, truncation, stride, padding, padLength, padToMultipleOf, returnOverflowing);
    }
}
