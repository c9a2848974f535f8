package bertj.bench;

import bertj.engine.BertInput;
import bertj.engine.Pooling;
import bertj.tokenizer.Encoding;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Texts batched for an engine that takes padded batches, as sentence-transformers' {@code encode} does: longest
 * first, {@value #BATCH} per batch, each padded to its longest sequence; then pooled with the attention mask,
 * normalised when asked, and put back in input order. sentence-transformers sorts by characters; this sorts by
 * tokens, which pads less, so the engine compared with bertj is given its best case.
 *
 * <p>The inputs are made once, before timing: tokenization and padding are not part of what is timed.
 */
final class PaddedBatches {
    /** sentence-transformers' default {@code batch_size}. */
    static final int BATCH = 32;

    /** One padded batch and the input positions of its sequences, in batch order. */
    record Batch(int[] indices, BertInput input) {
    }

    /** Runs one padded batch: last_hidden_state, row-major [batch, seq, hidden]. */
    @FunctionalInterface
    interface Forward {
        float[] lastHiddenState(BertInput input) throws Exception;
    }

    private final List<Batch> batches;
    private final int texts;
    private final long paddedTokens;

    private PaddedBatches(List<Batch> batches, int texts, long paddedTokens) {
        this.batches = List.copyOf(batches);
        this.texts = texts;
        this.paddedTokens = paddedTokens;
    }

    /** Batches of the encodings (already truncated), padded with {@code padId}. */
    static PaddedBatches of(List<Encoding> encodings, int padId) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < encodings.size(); i++) order.add(i);
        order.sort(Comparator.comparingInt((Integer i) -> encodings.get(i).length()).reversed()); // stable: ties in input order
        List<Batch> batches = new ArrayList<>();
        long padded = 0;
        for (int from = 0; from < order.size(); from += BATCH) {
            List<Integer> group = order.subList(from, Math.min(order.size(), from + BATCH));
            List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
            for (int i : group) {
                ids.add(encodings.get(i).ids());
                types.add(encodings.get(i).typeIds());
            }
            BertInput input = BertInput.padded(ids, types, padId);
            batches.add(new Batch(group.stream().mapToInt(Integer::intValue).toArray(), input));
            padded += input.tokens();
        }
        return new PaddedBatches(batches, encodings.size(), padded);
    }

    List<Batch> batches() {
        return batches;
    }

    /** Tokens in all batches, padding included. */
    long paddedTokens() {
        return paddedTokens;
    }

    /** Sequence {@code sequence}'s {@code seq} rows of {@code width} floats in a row-major [batch, seq, width] array. */
    static float[][] rows(float[] hidden, int sequence, int seq, int width) {
        float[][] rows = new float[seq][];
        for (int t = 0; t < seq; t++) {
            int at = (sequence * seq + t) * width;
            rows[t] = Arrays.copyOfRange(hidden, at, at + width);
        }
        return rows;
    }

    /** One vector per text, in input order: each batch run, then pooled with its attention mask. */
    float[][] embed(Forward forward, Pooling mode, boolean normalize) throws Exception {
        float[][] out = new float[texts][];
        for (Batch batch : batches) {
            BertInput input = batch.input();
            float[] hidden = forward.lastHiddenState(input);
            int seq = input.seqLen();
            if (hidden.length == 0 || hidden.length % input.tokens() != 0) {
                throw new IllegalStateException("last_hidden_state has " + hidden.length + " values for a batch of "
                        + input.batch() + " x " + seq + " tokens");
            }
            int width = hidden.length / input.tokens();
            for (int b = 0; b < input.batch(); b++) {
                float[] vector = mode.pool(rows(hidden, b, seq, width), Arrays.copyOfRange(input.attentionMask(), b * seq, (b + 1) * seq));
                out[batch.indices()[b]] = normalize ? Pooling.normalize(vector) : vector;
            }
        }
        return out;
    }
}
