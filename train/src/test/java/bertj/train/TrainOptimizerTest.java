package bertj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The trainer's optimizer and losses against a float64 reference written here from the formulas, on the same
 * cached features: softmax regression (three labels) and plain logistic regression (one sigmoid label), each
 * with AdamW as PyTorch defines it (decoupled weight decay, bias correction). Weights within 1e-6 after every
 * step of several epochs.
 */
class TrainOptimizerTest {
    static final double TOLERANCE = 1e-6;
    static final TrainingOptions OPTIONS = new TrainingOptions(6, 0.05, 4, 7, 0.1, 0);

    @Test
    void softmaxRegressionMatchesTheReference() {
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            List<TextExample> train = TrainData.sentiment();
            TrainedHead head = SequenceClassifierTrainer.train(bert, train, null, OPTIONS, TrainingListener.NONE);
            float[][] x = Features.pooled(bert, train, "train", TrainingListener.NONE);
            List<String> labels = List.of("negative", "neutral", "positive");
            assertEquals(labels, head.labels());
            int[] y = new int[train.size()];
            for (int i = 0; i < y.length; i++) y[i] = labels.indexOf(train.get(i).labels().getFirst());
            double[][][] expected = referenceSoftmax(x, y, labels.size(), OPTIONS);
            assertClose(expected, head.classifier());
        }
    }

    @Test
    void logisticRegressionMatchesTheReference() {
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            List<TextExample> train = new ArrayList<>();
            for (TextExample e : TrainData.sentiment()) {
                boolean positive = e.labels().getFirst().equals("positive");
                train.add(TextExample.multiLabeled(e.text(), null, positive ? List.of("positive") : List.of()));
            }
            TrainedHead head = SequenceClassifierTrainer.train(bert, train, null, OPTIONS, TrainingListener.NONE);
            assertEquals(List.of("positive"), head.labels());
            assertEquals(ProblemType.MULTI_LABEL, head.problemType());
            float[][] x = Features.pooled(bert, train, "train", TrainingListener.NONE);
            int[] y = new int[train.size()];
            for (int i = 0; i < y.length; i++) y[i] = train.get(i).labels().isEmpty() ? 0 : 1;
            assertClose(referenceLogistic(x, y, OPTIONS), head.classifier());
        }
    }

    private static void assertClose(double[][][] expected, LinearHead got) {
        double[][] w = expected[0];
        double[] b = expected[1][0];
        double worst = 0;
        for (int j = 0; j < got.out; j++) {
            worst = Math.max(worst, Math.abs(b[j] - got.bias[j]));
            for (int k = 0; k < got.in; k++) worst = Math.max(worst, Math.abs(w[j][k] - got.weight[j * got.in + k]));
        }
        assertTrue(worst <= TOLERANCE, "weights differ from the reference by " + worst);
        // the run moved the weights far beyond the tolerance: the comparison is not vacuous
        double moved = 0;
        for (double v : b) moved = Math.max(moved, Math.abs(v));
        assertTrue(moved > 100 * TOLERANCE, "the bias moved only " + moved);
    }

    /** transformers' initialization and the trainer's shuffles, from the same seed. */
    private static double[][] initialWeights(Random random, int out, int in) {
        double[][] w = new double[out][in];
        for (int j = 0; j < out; j++) for (int k = 0; k < in; k++) w[j][k] = 0.02 * random.nextGaussian();
        return w;
    }

    /** Multinomial logistic regression: dL/dz = softmax(z) - onehot(y). */
    static double[][][] referenceSoftmax(float[][] x, int[] y, int classes, TrainingOptions o) {
        return reference(x, classes, o, (z, i) -> {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double v : z) max = Math.max(max, v);
            for (double v : z) sum += Math.exp(v - max);
            double[] g = new double[classes];
            for (int c = 0; c < classes; c++) g[c] = Math.exp(z[c] - max) / sum - (c == y[i] ? 1 : 0);
            return g;
        });
    }

    /** Binary logistic regression: dL/dz = sigmoid(z) - y. */
    static double[][][] referenceLogistic(float[][] x, int[] y, TrainingOptions o) {
        return reference(x, 1, o, (z, i) -> new double[] {1 / (1 + Math.exp(-z[0])) - y[i]});
    }

    /** The gradient of example i's loss with respect to its logits z. */
    interface LogitGradient {
        double[] of(double[] z, int i);
    }

    /**
     * A linear model z = W x + b fitted by mini-batches of the mean loss, AdamW on W (decayed) and b (not); the
     * initial W and each epoch's order drawn from the seed as transformers' init and a Fisher-Yates shuffle do.
     */
    static double[][][] reference(float[][] x, int out, TrainingOptions o, LogitGradient gradient) {
        int n = x.length, d = x[0].length;
        Random random = new Random(o.seed());
        double[][] w = initialWeights(random, out, d);
        double[] b = new double[out];
        Adam wAdam = new Adam(out * d), bAdam = new Adam(out);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int from = 0; from < n; from += o.batchSize()) {
                int to = Math.min(n, from + o.batchSize());
                double[][] gw = new double[out][d];
                double[] gb = new double[out];
                for (int i = from; i < to; i++) {
                    float[] xi = x[order[i]];
                    double[] z = new double[out];
                    for (int c = 0; c < out; c++) {
                        z[c] = b[c];
                        for (int k = 0; k < d; k++) z[c] += w[c][k] * xi[k];
                    }
                    double[] g = gradient.of(z, order[i]);
                    for (int c = 0; c < out; c++) {
                        gb[c] += g[c] / (to - from);
                        for (int k = 0; k < d; k++) gw[c][k] += g[c] / (to - from) * xi[k];
                    }
                }
                wAdam.step(w, gw, o.learningRate(), o.weightDecay());
                bAdam.step(new double[][] {b}, new double[][] {gb}, o.learningRate(), 0);
            }
        }
        return new double[][][] {w, {b}};
    }

    /** Adam with decoupled weight decay (Loshchilov and Hutter), in the textbook form m_hat / (sqrt(v_hat) + eps). */
    private static final class Adam {
        final double[] m, v;
        int t;

        Adam(int size) {
            m = new double[size];
            v = new double[size];
        }

        void step(double[][] p, double[][] g, double lr, double decay) {
            t++;
            int i = 0;
            for (int r = 0; r < p.length; r++) {
                for (int c = 0; c < p[r].length; c++, i++) {
                    p[r][c] -= lr * decay * p[r][c];
                    m[i] = 0.9 * m[i] + 0.1 * g[r][c];
                    v[i] = 0.999 * v[i] + 0.001 * g[r][c] * g[r][c];
                    double mHat = m[i] / (1 - Math.pow(0.9, t)), vHat = v[i] / (1 - Math.pow(0.999, t));
                    p[r][c] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
                }
            }
        }
    }
}
