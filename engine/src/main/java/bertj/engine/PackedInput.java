package bertj.engine;

import java.util.List;

/**
 * Sequences of any lengths packed back to back, without padding: sequence s is tokens {@code starts[s]} to
 * {@code starts[s + 1]} of {@code inputIds} and {@code tokenTypeIds}, every token attended. The encoder
 * computes exactly what it computes for each sequence alone, bit for bit, and no work goes to padding.
 */
public record PackedInput(int[] inputIds, int[] tokenTypeIds, int[] starts) {

    public PackedInput {
        if (inputIds == null || tokenTypeIds == null || starts == null) {
            throw new IllegalArgumentException("inputIds, tokenTypeIds and starts must not be null");
        }
        if (starts.length < 2 || starts[0] != 0 || starts[starts.length - 1] != inputIds.length) {
            throw new IllegalArgumentException("starts must run from 0 to the " + inputIds.length
                    + " tokens, with at least one sequence; got " + starts.length + " entries");
        }
        for (int s = 0; s + 1 < starts.length; s++) {
            if (starts[s + 1] <= starts[s]) {
                throw new IllegalArgumentException("sequence " + s + " is empty or starts go backwards: "
                        + starts[s] + " then " + starts[s + 1]);
            }
        }
        if (tokenTypeIds.length != inputIds.length) {
            throw new IllegalArgumentException("tokenTypeIds has " + tokenTypeIds.length + " values for "
                    + inputIds.length + " input ids");
        }
    }

    /** Packs the sequences in order; {@code typeIds} (or any of its entries) null means type 0. */
    public static PackedInput of(List<int[]> ids, List<int[]> typeIds) {
        int[] starts = new int[ids.size() + 1];
        for (int s = 0; s < ids.size(); s++) {
            starts[s + 1] = Math.addExact(starts[s], ids.get(s).length);
        }
        int[] flatIds = new int[starts[ids.size()]];
        int[] flatTypes = new int[flatIds.length];
        for (int s = 0; s < ids.size(); s++) {
            int[] row = ids.get(s);
            System.arraycopy(row, 0, flatIds, starts[s], row.length);
            int[] types = typeIds == null ? null : typeIds.get(s);
            if (types != null) {
                if (types.length != row.length) {
                    throw new IllegalArgumentException("sequence " + s + " has " + row.length + " ids and "
                            + types.length + " type ids");
                }
                System.arraycopy(types, 0, flatTypes, starts[s], row.length);
            }
        }
        return new PackedInput(flatIds, flatTypes, starts);
    }

    /** Number of sequences. */
    public int sequences() {
        return starts.length - 1;
    }

    public int tokens() {
        return inputIds.length;
    }

    public int length(int sequence) {
        return starts[sequence + 1] - starts[sequence];
    }
}
