package bertj.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** How a sentence embedding is made from the token embeddings of one sequence. */
public enum Pooling {
    /** The first token's ([CLS]) hidden state. */
    CLS,
    /** Mean over the attended tokens (sentence-transformers' {@code pooling_mode_mean_tokens}). */
    MEAN,
    /** Element-wise max over the attended tokens. */
    MAX;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Pools tokens[seq][hidden], of which those with a non-zero attention mask are attended. */
    public float[] pool(float[][] tokens, int[] attentionMask) {
        int hidden = tokens[0].length;
        if (this == CLS) return tokens[0].clone();
        float[] attended = new float[tokens.length * hidden];
        int count = 0;
        for (int t = 0; t < tokens.length; t++) {
            if (attentionMask[t] != 0) System.arraycopy(tokens[t], 0, attended, count++ * hidden, hidden);
        }
        return pool(MemorySegment.ofArray(attended), count, hidden);
    }

    /** Pools the {@code count} rows of {@code hidden} floats in {@code rows}, all attended. */
    public float[] pool(MemorySegment rows, int count, int hidden) {
        float[] out = new float[hidden];
        switch (this) {
            case CLS -> MemorySegment.copy(rows, FLOAT, 0, out, 0, hidden);
            case MEAN -> {
                double[] sum = new double[hidden];
                for (int t = 0; t < count; t++) {
                    for (int i = 0; i < hidden; i++) sum[i] += rows.getAtIndex(FLOAT, (long) t * hidden + i);
                }
                // sentence-transformers clamps the token count at 1e-9 to avoid dividing by zero.
                double divisor = Math.max(count, 1e-9);
                for (int i = 0; i < hidden; i++) out[i] = (float) (sum[i] / divisor);
            }
            case MAX -> {
                Arrays.fill(out, count == 0 ? 0f : Float.NEGATIVE_INFINITY);
                for (int t = 0; t < count; t++) {
                    for (int i = 0; i < hidden; i++) out[i] = Math.max(out[i], rows.getAtIndex(FLOAT, (long) t * hidden + i));
                }
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
