package bertj.engine;

/** The task heads' one softmax, in double as Hugging Face's pipelines compute it (numpy, float64). */
final class Probabilities {
    private Probabilities() {
    }

    /** {@code e^(x_i - max x) / sum_j e^(x_j - max x)}. */
    static double[] softmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) sum += p[i] = Math.exp(x[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** The softmax of float logits, widened to double. */
    static double[] softmax(float[] logits) {
        double[] x = new double[logits.length];
        for (int i = 0; i < logits.length; i++) x[i] = logits[i];
        return softmax(x);
    }
}
