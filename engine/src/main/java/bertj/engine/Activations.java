package bertj.engine;

import bertj.kernels.Activation;
import bertj.loader.BertConfig;

/** Maps config.json's {@code hidden_act} to the kernel that computes it. */
final class Activations {
    private Activations() {
    }

    static Activation of(BertConfig config) {
        return switch (config.hiddenAct()) {
            case GELU -> Activation.GELU_ERF;
            case GELU_TANH -> Activation.GELU_TANH;
            case RELU -> Activation.RELU;
        };
    }
}
