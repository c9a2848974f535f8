package bertj.train;

import java.util.Arrays;
import java.util.Random;

/** A head's {@code nn.Linear(in, out)} in double: {@code logits = weight . x + bias}, weight [out, in] as stored. */
final class LinearHead {
    /** transformers' {@code initializer_range}: a new Linear's weights are normal(0, 0.02), its bias zero. */
    static final double INITIALIZER_RANGE = 0.02;

    final int in;
    final int out;
    final double[] weight; // [out, in]
    final double[] bias;   // [out]

    private LinearHead(int in, int out, double[] weight, double[] bias) {
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.bias = bias;
    }

    /** A new head as transformers' {@code _init_weights} makes it, from {@code random}. */
    static LinearHead initialized(int in, int out, Random random) {
        double[] weight = new double[out * in];
        for (int i = 0; i < weight.length; i++) weight[i] = INITIALIZER_RANGE * random.nextGaussian();
        return new LinearHead(in, out, weight, new double[out]);
    }

    static LinearHead of(int in, int out, double[] weight, double[] bias) {
        return new LinearHead(in, out, weight.clone(), bias.clone());
    }

    double[] logits(float[] x) {
        double[] y = new double[out];
        for (int j = 0; j < out; j++) {
            double sum = bias[j];
            for (int k = 0, row = j * in; k < in; k++) sum += weight[row + k] * x[k];
            y[j] = sum;
        }
        return y;
    }

    LinearHead copy() {
        return new LinearHead(in, out, weight.clone(), bias.clone());
    }

    /** Whether both hold the same bits. */
    boolean sameAs(LinearHead other) {
        return Arrays.equals(weight, other.weight) && Arrays.equals(bias, other.bias);
    }
}
