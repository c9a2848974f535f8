package bertj.engine;

import java.util.Arrays;
import java.util.List;

/**
 * A padded batch of token ids, as {@code transformers.BertModel} takes it: {@code input_ids},
 * {@code token_type_ids} and {@code attention_mask}, each [batch, seqLen], row-major.
 */
public record BertInput(int batch, int seqLen, int[] inputIds, int[] tokenTypeIds, int[] attentionMask) {

    public BertInput {
        if (batch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch and sequence length must be at least 1, got batch=" + batch + ", seqLen=" + seqLen);
        }
        long size = (long) batch * seqLen;
        check("input_ids", inputIds, size);
        check("token_type_ids", tokenTypeIds, size);
        check("attention_mask", attentionMask, size);
    }

    private static void check(String name, int[] values, long size) {
        if (values == null || values.length != size) {
            throw new IllegalArgumentException(name + " must have batch x seqLen = " + size + " values, got "
                    + (values == null ? "null" : values.length));
        }
    }

    /** One unpadded sequence: all tokens attended, type ids as given (null means all 0). */
    public static BertInput of(int[] inputIds, int[] tokenTypeIds) {
        int[] types = tokenTypeIds == null ? new int[inputIds.length] : tokenTypeIds;
        int[] mask = new int[inputIds.length];
        Arrays.fill(mask, 1);
        return new BertInput(1, inputIds.length, inputIds, types, mask);
    }

    /**
     * Padding may make at most this many times the sequences' own tokens, or {@link #PADDING_FLOOR} tokens, whichever is
     * more (as the tokenizer's padded batches): one long sequence among many short ones is refused with an
     * {@link IllegalArgumentException} before the batch's arrays are allocated, instead of sizing them by the product.
     */
    public static final int MAX_PADDING_GROWTH = 16;
    /** See {@link #MAX_PADDING_GROWTH}: 2^22 tokens, 48 MB of ids, type ids and mask. */
    public static final int PADDING_FLOOR = 1 << 22;

    /**
     * Pads sequences of different lengths to the longest, with {@code padId}, type id 0 and mask 0,
     * the way Hugging Face's tokenizer pads on the right.
     */
    public static BertInput padded(List<int[]> ids, List<int[]> typeIds, int padId) {
        int batch = ids.size();
        int seqLen = 1;
        long tokens = 0;
        for (int[] row : ids) {
            seqLen = Math.max(seqLen, row.length);
            tokens += row.length;
        }
        long size = (long) batch * seqLen;
        if (size > Math.max(PADDING_FLOOR, MAX_PADDING_GROWTH * tokens)) {
            throw new IllegalArgumentException("padding " + batch + " sequences (" + tokens + " tokens) to the longest, " + seqLen
                    + " tokens, makes " + size + " tokens: over the limit of " + Math.max(PADDING_FLOOR, MAX_PADDING_GROWTH * tokens)
                    + " (" + MAX_PADDING_GROWTH + " times their tokens, or " + PADDING_FLOOR + "); split the batch by length");
        }
        int[] flatIds = new int[batch * seqLen];
        int[] flatTypes = new int[batch * seqLen];
        int[] flatMask = new int[batch * seqLen];
        Arrays.fill(flatIds, padId);
        for (int b = 0; b < batch; b++) {
            int[] row = ids.get(b);
            System.arraycopy(row, 0, flatIds, b * seqLen, row.length);
            if (typeIds != null && typeIds.get(b) != null) System.arraycopy(typeIds.get(b), 0, flatTypes, b * seqLen, row.length);
            Arrays.fill(flatMask, b * seqLen, b * seqLen + row.length, 1);
        }
        return new BertInput(batch, seqLen, flatIds, flatTypes, flatMask);
    }

    public int tokens() {
        return batch * seqLen;
    }

    /** Number of attended tokens in sequence {@code b}. */
    public int length(int b) {
        int n = 0;
        for (int t = 0; t < seqLen; t++) n += attentionMask[b * seqLen + t] != 0 ? 1 : 0;
        return n;
    }
}
