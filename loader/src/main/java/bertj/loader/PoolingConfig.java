package bertj.loader;

import java.util.Objects;

/**
 * How a sentence-transformers model turns token embeddings into one sentence embedding: its
 * {@code sentence_transformers.models.Pooling} module (e.g. {@code 1_Pooling/config.json}) and whether a
 * {@code sentence_transformers.models.Normalize} module follows it.
 *
 * @param mode which pooling_mode_* flag is set
 * @param normalize whether the pooled vector is L2-normalised
 */
public record PoolingConfig(Mode mode, boolean normalize) {
    public enum Mode {
        /** pooling_mode_cls_token: the first token's vector. */
        CLS,
        /** pooling_mode_mean_tokens: the mean over tokens whose attention mask is 1. */
        MEAN,
        /** pooling_mode_max_tokens: the element-wise max over tokens whose attention mask is 1. */
        MAX
    }

    public PoolingConfig {
        Objects.requireNonNull(mode, "mode");
    }
}
