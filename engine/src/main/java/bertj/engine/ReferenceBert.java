package bertj.engine;

import bertj.kernels.reference.ScalarMath;
import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;

import java.nio.file.Path;

/**
 * The whole BERT forward pass in double precision, straight from the formulas: the executable spec that
 * {@link BertModel} implements fast, as Hugging Face's {@code modeling_bert.py} reads it ({@code BertEmbeddings},
 * then per {@code BertLayer}: {@code BertSelfAttention}, {@code BertSelfOutput}, {@code BertIntermediate},
 * {@code BertOutput}). No kernels, no packing, no threads: arrays of doubles, one sequence at a time, every
 * key attended through the mask. Slow, and meant to be read; the tests hold it to the float64 reference
 * outputs to 1e-6, so any larger error of the engine is its rounding.
 *
 * <p>With {@code roundToFloat} every intermediate tensor is rounded to float, as a float32 engine stores it.
 */
public final class ReferenceBert {
    private final BertConfig c;
    private final BertCheckpoint w;
    private final boolean roundToFloat;

    public ReferenceBert(BertConfig config, BertCheckpoint weights, boolean roundToFloat) {
        this.c = config;
        this.w = weights;
        this.roundToFloat = roundToFloat;
    }

    /** The last hidden states {@code [batch][seq][hidden]} of the model in {@code dir} for {@code in}. */
    public static double[][][] run(Path dir, BertInput in, boolean roundToFloat) {
        try (ModelDirectory md = ModelDirectory.open(dir)) {
            return new ReferenceBert(md.config(), md.bertCheckpoint(), roundToFloat).forward(in);
        }
    }

    /** A tensor of the checkpoint, widened to double. */
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
    public double[][][] forward(BertInput in) {
        double[][][] out = new double[in.batch()][][];
        for (int b = 0; b < in.batch(); b++) {
            double[][] x = embeddings(in, b);
            for (int l = 0; l < c.numHiddenLayers(); l++) x = layer(x, l, in, b);
            out[b] = x;
        }
        return out;
    }

    /** BertEmbeddings: LayerNorm(word[id] + position[s] + tokenType[type]), x [S][H]. */
    private double[][] embeddings(BertInput in, int b) {
        int H = c.hiddenSize(), S = in.seqLen();
        double[] word = t("embeddings.word_embeddings.weight"), pos = t("embeddings.position_embeddings.weight"),
                type = t("embeddings.token_type_embeddings.weight");
        double[][] x = new double[S][H];
        for (int s = 0; s < S; s++) {
            int id = in.inputIds()[b * S + s], tt = in.tokenTypeIds()[b * S + s];
            for (int h = 0; h < H; h++) x[s][h] = r(word[id * H + h] + pos[s * H + h] + type[tt * H + h]);
        }
        return layerNorm(x, t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"));
    }

    /** BertLayer l of sequence b: x [S][H] -> [S][H]. */
    private double[][] layer(double[][] x, int l, BertInput in, int b) {
        String p = "encoder.layer." + l + ".";
        double[][] ctx = selfAttention(x, p, in, b);
        // BertSelfOutput: LayerNorm(Dense(ctx) + x)
        double[][] a = add(linear(ctx, p + "attention.output.dense"), x);
        a = layerNorm(a, t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias"));
        // BertIntermediate: act(Dense(a)), [S][intermediate]
        double[][] inner = linear(a, p + "intermediate.dense");
        for (double[] row : inner) for (int i = 0; i < row.length; i++) row[i] = r(act(row[i]));
        // BertOutput: LayerNorm(Dense(inner) + a)
        double[][] o = add(linear(inner, p + "output.dense"), a);
        return layerNorm(o, t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias"));
    }

    /**
     * BertSelfAttention: per head h of size d, {@code ctx_h = softmax(Q_h K_h^T / sqrt(d) + mask) V_h}, the mask
     * float32's minimum on padding keys (attention_mask 0) and 0 elsewhere. x [S][H] -> ctx [S][H].
     */
    private double[][] selfAttention(double[][] x, String p, BertInput in, int b) {
        int S = x.length, nh = c.numAttentionHeads(), d = c.hiddenSize() / nh;
        double[][] q = linear(x, p + "attention.self.query"), k = linear(x, p + "attention.self.key"),
                v = linear(x, p + "attention.self.value");
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
        return ctx;
    }

    /** The config's hidden_act. */
    private double act(double x) {
        return switch (c.hiddenAct()) {
            case GELU -> 0.5 * x * (1 + ScalarMath.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(0, x);
        };
    }

    /** nn.Linear: y[i][o] = b[o] + sum_e x[i][e] W[o][e], x [rows][in], W [out][in] -> y [rows][out]. */
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

    /** a += b, element-wise (the residual connections). */
    private double[][] add(double[][] a, double[][] b) {
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) a[i][j] = r(a[i][j] + b[i][j]);
        return a;
    }

    /** nn.LayerNorm over each row: (x - mean) / sqrt(var + eps) * g + beta, var biased. */
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
