package bertj.train;

/**
 * The losses of transformers' heads, each with its gradient with respect to the logits. PyTorch averages them
 * ({@code reduction="mean"}): cross-entropy over the rows, the binary cross-entropy and the squared error over
 * every element (rows x labels), which {@link #elements} counts.
 */
enum Loss {
    /** {@code CrossEntropyLoss}: {@code -log softmax(logits)[target]}; the target a one-hot row. */
    CROSS_ENTROPY {
        @Override
        double addGradient(double[] logits, double[] target, double[] gradient) {
            double[] p = softmax(logits);
            double loss = 0;
            for (int j = 0; j < logits.length; j++) {
                if (target[j] != 0) loss -= target[j] * Math.log(p[j]);
                gradient[j] += p[j] - target[j];
            }
            return loss;
        }

        @Override
        int elements(int rows, int labels) {
            return rows;
        }
    },
    /** {@code BCEWithLogitsLoss}: {@code -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))} per label. */
    BINARY_CROSS_ENTROPY {
        @Override
        double addGradient(double[] logits, double[] target, double[] gradient) {
            double loss = 0;
            for (int j = 0; j < logits.length; j++) {
                double x = logits[j];
                // max(x, 0) - x t + log(1 + e^-|x|): PyTorch's stable form
                loss += Math.max(x, 0) - x * target[j] + Math.log1p(Math.exp(-Math.abs(x)));
                gradient[j] += sigmoid(x) - target[j];
            }
            return loss;
        }

        @Override
        int elements(int rows, int labels) {
            return rows * labels;
        }
    },
    /** {@code MSELoss}: {@code (x - t)^2} per label. */
    MEAN_SQUARED_ERROR {
        @Override
        double addGradient(double[] logits, double[] target, double[] gradient) {
            double loss = 0;
            for (int j = 0; j < logits.length; j++) {
                double d = logits[j] - target[j];
                loss += d * d;
                gradient[j] += 2 * d;
            }
            return loss;
        }

        @Override
        int elements(int rows, int labels) {
            return rows * labels;
        }
    };

    /**
     * Adds the gradient of one row's summed loss with respect to its logits to {@code gradient} and returns that
     * summed loss; divide both by {@link #elements} for PyTorch's mean.
     */
    abstract double addGradient(double[] logits, double[] target, double[] gradient);

    /** What the summed loss of {@code rows} rows is divided by. */
    abstract int elements(int rows, int labels);

    static double[] softmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : x) max = Math.max(max, v);
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) sum += p[i] = Math.exp(x[i] - max);
        for (int i = 0; i < x.length; i++) p[i] /= sum;
        return p;
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
