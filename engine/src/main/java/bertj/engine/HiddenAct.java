package bertj.engine;

import bertj.kernels.Activation;
import bertj.loader.BertConfig;

/**
 * config.json's {@code hidden_act} (Hugging Face's {@code ACT2FN[config.hidden_act]}), mapped to the kernel
 * {@link Activation} that BertIntermediate's Linear fuses. Not the kernels' {@code bertj.kernels.Activations},
 * which computes them.
 */
final class HiddenAct {
    private HiddenAct() {
    }

    static Activation of(BertConfig config) {
        return switch (config.hiddenAct()) {
            case GELU -> Activation.GELU_ERF;
            case GELU_TANH -> Activation.GELU_TANH;
            case RELU -> Activation.RELU;
        };
    }
}
