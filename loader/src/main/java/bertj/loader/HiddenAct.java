package bertj.loader;

import java.util.Arrays;
import java.util.List;

/**
 * The feed-forward activation of a BERT layer, from config.json's {@code hidden_act}. Each constant lists the
 * Hugging Face names ({@code transformers.activations.ACT2FN}) that compute the same function.
 */
public enum HiddenAct {
    /** x * Phi(x) with the exact erf: {@code gelu} (GELUActivation), {@code gelu_python}. */
    GELU("gelu", "gelu_python"),
    /**
     * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): {@code gelu_new} (NewGELUActivation),
     * {@code gelu_pytorch_tanh}, {@code gelu_fast} (the same formula with the constant folded).
     */
    GELU_TANH("gelu_new", "gelu_pytorch_tanh", "gelu_fast"),
    /** max(0, x). */
    RELU("relu");

    private final List<String> configNames;

    HiddenAct(String... configNames) {
        this.configNames = List.of(configNames);
    }

    /** The name written back to config.json. */
    public String configName() {
        return configNames.get(0);
    }

    public List<String> configNames() {
        return configNames;
    }

    /** @throws IllegalArgumentException for names bertj does not implement, listing those it does */
    public static HiddenAct fromConfig(String name) {
        for (HiddenAct a : values()) {
            if (a.configNames.contains(name)) return a;
        }
        throw new IllegalArgumentException("unsupported hidden_act \"" + name + "\" (supported: "
                + String.join(", ", Arrays.stream(values()).flatMap(a -> a.configNames.stream()).toList()) + ")");
    }
}
