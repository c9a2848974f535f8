package bertj.engine;

import java.util.List;

/**
 * What {@code transformers.BertModel} returns, {@code BaseModelOutputWithPooling} (with the same fields'
 * names), as plain Java arrays. Not Hugging Face's {@code BertOutput}, which is the last step of a layer
 * ({@link BertLayer}).
 *
 * @param lastHiddenState [batch][seq][hidden]
 * @param poolerOutput    [batch][hidden], or null when the checkpoint has no pooler
 * @param hiddenStates    the embedding output, then every layer's output (num_hidden_layers + 1 entries);
 *                        empty unless asked for
 * @param attentions      per layer [batch][heads][seq][seq] attention probabilities; empty unless asked for
 */
public record BaseModelOutputWithPooling(float[][][] lastHiddenState, float[][] poolerOutput,
                                         List<float[][][]> hiddenStates, List<float[][][][]> attentions) {
}
