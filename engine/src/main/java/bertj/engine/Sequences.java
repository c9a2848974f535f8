package bertj.engine;

/**
 * The rows one forward runs: sequences back to back, sequence s in rows {@code starts[s]} to
 * {@code starts[s + 1]}. A padded batch's sequences keep their padding rows (transformers computes them
 * too); a packed one has none. Attention reads each sequence's first {@code keys[s]} rows as keys: the
 * padding after its last attended token is left out. The key counts are worked out here, once per forward,
 * from the int {@code attention_mask}; every layer's attention takes them as they are.
 *
 * <p>The mask may also have zeros before a sequence's last attended token, as Hugging Face's may (a masked token
 * in the middle): then attention is given the mask too, and masks those keys as PyTorch does, by adding
 * float32's minimum to their scores.
 *
 * @param positions     each row's position in its sequence
 * @param keys          per sequence, how many of its first rows attention reads as keys
 * @param attentionMask the padded batch's int mask when a masked token lies before a sequence's last attended
 *                      one, else null
 */
record Sequences(int[] inputIds, int[] tokenTypeIds, int[] positions, int[] starts, int[] keys, int[] attentionMask) {

    static Sequences of(BertInput input) {
        int batch = input.batch(), seqLen = input.seqLen();
        int[] mask = input.attentionMask();
        int[] starts = new int[batch + 1];
        int[] keys = new int[batch];
        int[] positions = new int[input.tokens()];
        boolean holes = false;
        for (int b = 0; b < batch; b++) {
            starts[b + 1] = (b + 1) * seqLen;
            int first = b * seqLen;
            int attended = seqLen;
            while (attended > 0 && mask[first + attended - 1] == 0) attended--;
            // Nothing attended: every key counts, and attention is uniform, as in PyTorch.
            keys[b] = attended == 0 ? seqLen : attended;
            for (int t = 0; t < seqLen; t++) {
                positions[first + t] = t;
                if (t < keys[b] && mask[first + t] == 0) holes = true;
            }
        }
        // A copy: every layer's attention reads it, as it was when the forward began.
        return new Sequences(input.inputIds(), input.tokenTypeIds(), positions, starts, keys, holes ? mask.clone() : null);
    }

    static Sequences of(PackedInput input) {
        int count = input.sequences();
        int[] keys = new int[count];
        int[] positions = new int[input.tokens()];
        for (int s = 0; s < count; s++) {
            keys[s] = input.length(s);
            for (int t = 0; t < keys[s]; t++) positions[input.starts()[s] + t] = t;
        }
        return new Sequences(input.inputIds(), input.tokenTypeIds(), positions, input.starts(), keys, null);
    }

    int count() {
        return keys.length;
    }

    int tokens() {
        return inputIds.length;
    }

    int length(int s) {
        return starts[s + 1] - starts[s];
    }

    int longest() {
        int longest = 0;
        for (int s = 0; s < count(); s++) longest = Math.max(longest, length(s));
        return longest;
    }

    /** "sequence s, position p" of a row, for messages. */
    String where(int row) {
        int s = 0;
        while (starts[s + 1] <= row) s++;
        return "sequence " + s + ", position " + positions[row];
    }
}
