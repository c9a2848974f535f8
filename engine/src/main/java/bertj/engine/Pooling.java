package bertj.engine;

/** How a sentence embedding is made from the token embeddings of one sequence. */
public enum Pooling {
    /** The first token's ([CLS]) hidden state. */
    CLS,
    /** Mean over the attended tokens (sentence-transformers' {@code pooling_mode_mean_tokens}). */
    MEAN,
    /** Element-wise max over the attended tokens. */
    MAX;

    /** Pools tokens[seq][hidden] of which the first {@code length} are attended. */
    public float[] pool(float[][] tokens, int[] attentionMask) {
        int hidden = tokens[0].length;
        float[] out = new float[hidden];
        switch (this) {
            case CLS -> System.arraycopy(tokens[0], 0, out, 0, hidden);
            case MEAN -> {
                double[] sum = new double[hidden];
                int count = 0;
                for (int t = 0; t < tokens.length; t++) {
                    if (attentionMask[t] == 0) continue;
                    count++;
                    for (int i = 0; i < hidden; i++) sum[i] += tokens[t][i];
                }
                // sentence-transformers clamps the token count at 1e-9 to avoid dividing by zero.
                double divisor = Math.max(count, 1e-9);
                for (int i = 0; i < hidden; i++) out[i] = (float) (sum[i] / divisor);
            }
            case MAX -> {
                java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
                boolean any = false;
                for (int t = 0; t < tokens.length; t++) {
                    if (attentionMask[t] == 0) continue;
                    any = true;
                    for (int i = 0; i < hidden; i++) out[i] = Math.max(out[i], tokens[t][i]);
                }
                if (!any) java.util.Arrays.fill(out, 0f);
            }
        }
        return out;
    }

    /** Scales v to unit L2 norm in place (as torch.nn.functional.normalize: norm clamped at 1e-12). */
    public static float[] normalize(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        double scale = 1.0 / Math.max(Math.sqrt(norm), 1e-12);
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * scale);
        return v;
    }

    /** Cosine similarity of two vectors, in double. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vectors of different sizes: " + a.length + " and " + b.length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-12);
    }
}
