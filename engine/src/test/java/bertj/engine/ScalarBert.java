package bertj.engine;

import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;

import java.nio.file.Path;

/**
 * A plain, slow BERT forward pass in double precision, straight from the formulas: the scalar twin
 * of the whole model. With {@code roundToFloat} every intermediate tensor is rounded to float, as a
 * float32 engine stores it.
 */
final class ScalarBert {
    private final BertConfig c;
    private final BertCheckpoint w;
    private final boolean roundToFloat;

    ScalarBert(BertConfig config, BertCheckpoint weights, boolean roundToFloat) {
        this.c = config;
        this.w = weights;
        this.roundToFloat = roundToFloat;
    }

    static double[][][] run(Path dir, BertInput in, boolean roundToFloat) {
        try (ModelDirectory md = ModelDirectory.open(dir)) {
            return new ScalarBert(md.config(), md.bertCheckpoint(), roundToFloat).forward(in);
        }
    }

    private double[] t(String name) {
        float[] f = w.require(name).toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private double r(double v) {
        return roundToFloat ? (float) v : v;
    }

    /** [batch][seq][hidden] hidden states after the last layer. */
    double[][][] forward(BertInput in) {
        int H = c.hiddenSize(), S = in.seqLen();
        double[] word = t("embeddings.word_embeddings.weight"), pos = t("embeddings.position_embeddings.weight"),
                type = t("embeddings.token_type_embeddings.weight");
        double[][][] out = new double[in.batch()][][];
        for (int b = 0; b < in.batch(); b++) {
            double[][] x = new double[S][H];
            for (int s = 0; s < S; s++) {
                int id = in.inputIds()[b * S + s], tt = in.tokenTypeIds()[b * S + s];
                for (int h = 0; h < H; h++) x[s][h] = r(word[id * H + h] + pos[s * H + h] + type[tt * H + h]);
            }
            x = layerNorm(x, t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"));
            for (int l = 0; l < c.numHiddenLayers(); l++) x = layer(x, l, in, b);
            out[b] = x;
        }
        return out;
    }

    private double[][] layer(double[][] x, int l, BertInput in, int b) {
        String p = "encoder.layer." + l + ".";
        int S = x.length, nh = c.numAttentionHeads(), d = c.hiddenSize() / nh;
        double[][] q = linear(x, p + "attention.self.query"), k = linear(x, p + "attention.self.key"), v = linear(x, p + "attention.self.value");
        double[][] ctx = new double[S][c.hiddenSize()];
        for (int h = 0; h < nh; h++) {
            for (int i = 0; i < S; i++) {
                double[] score = new double[S];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < S; j++) {
                    double dot = 0;
                    for (int e = 0; e < d; e++) dot += q[i][h * d + e] * k[j][h * d + e];
                    score[j] = r(dot / Math.sqrt(d)) + (in.attentionMask()[b * S + j] != 0 ? 0 : -Float.MAX_VALUE);
                    max = Math.max(max, score[j]);
                }
                double sum = 0;
                for (int j = 0; j < S; j++) sum += score[j] = Math.exp(score[j] - max);
                for (int j = 0; j < S; j++) score[j] = r(score[j] / sum);
                for (int e = 0; e < d; e++) {
                    double acc = 0;
                    for (int j = 0; j < S; j++) acc += score[j] * v[j][h * d + e];
                    ctx[i][h * d + e] = r(acc);
                }
            }
        }
        double[][] a = add(linear(ctx, p + "attention.output.dense"), x);
        a = layerNorm(a, t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias"));
        double[][] inner = linear(a, p + "intermediate.dense");
        for (double[] row : inner) for (int i = 0; i < row.length; i++) row[i] = r(act(row[i]));
        double[][] o = add(linear(inner, p + "output.dense"), a);
        return layerNorm(o, t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias"));
    }

    private double act(double x) {
        return switch (c.hiddenAct()) {
            case GELU -> 0.5 * x * (1 + bertj.kernels.Activations.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(0, x);
        };
    }

    private double[][] linear(double[][] x, String prefix) {
        double[] W = t(prefix + ".weight"), B = t(prefix + ".bias");
        int out = B.length, in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double acc = B[o];
                for (int e = 0; e < in; e++) acc += x[i][e] * W[o * in + e];
                y[i][o] = r(acc);
            }
        }
        return y;
    }

    private double[][] add(double[][] a, double[][] b) {
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) a[i][j] = r(a[i][j] + b[i][j]);
        return a;
    }

    private double[][] layerNorm(double[][] x, double[] g, double[] beta) {
        double eps = c.layerNormEps();
        double[][] y = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v;
            mean /= x[i].length;
            for (double v : x[i]) var += (v - mean) * (v - mean);
            var /= x[i].length;
            for (int j = 0; j < x[i].length; j++) y[i][j] = r((x[i][j] - mean) / Math.sqrt(var + eps) * g[j] + beta[j]);
        }
        return y;
    }
}
