package bertj.train;

/**
 * PyTorch's {@code torch.optim.AdamW} for one parameter tensor (defaults betas (0.9, 0.999), eps 1e-8), in double:
 * <pre>
 * p  = p - lr * weight_decay * p            decoupled weight decay, before the update
 * m  = beta1 * m + (1 - beta1) * g
 * v  = beta2 * v + (1 - beta2) * g^2
 * p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 */
public final class AdamW {
    public static final double BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;

    private final double learningRate;
    private final double weightDecay;
    private final double[] m;
    private final double[] v;
    private int step;

    /** For a tensor of {@code size} values. */
    public AdamW(int size, double learningRate, double weightDecay) {
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
        this.m = new double[size];
        this.v = new double[size];
    }

    /** One update of {@code params} by their gradient {@code grads}. */
    public void step(double[] params, double[] grads) {
        step++;
        double bias1 = 1 - Math.pow(BETA1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(BETA2, step));
        double stepSize = learningRate / bias1;
        for (int i = 0; i < params.length; i++) {
            params[i] *= 1 - learningRate * weightDecay;
            m[i] = BETA1 * m[i] + (1 - BETA1) * grads[i];
            v[i] = BETA2 * v[i] + (1 - BETA2) * grads[i] * grads[i];
            params[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / bias2Sqrt + EPS);
        }
    }
}
