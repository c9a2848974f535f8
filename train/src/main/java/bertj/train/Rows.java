package bertj.train;

/**
 * Cached encoder features and their targets, grouped into examples: a text's one pooled row, or a sentence's
 * rows at the first sub-token of each word. Example e is rows {@code starts[e]} to {@code starts[e + 1]}.
 *
 * @param features [rows][hidden], as the encoder gave them (float)
 * @param targets  [rows][labels]: one-hot for a label, 0/1 per label for multi-label, the value for regression
 * @param starts   [examples + 1]
 */
record Rows(float[][] features, double[][] targets, int[] starts) {
    int examples() {
        return starts.length - 1;
    }

    int size() {
        return features.length;
    }
}
