package bertj.engine;

import bertj.kernels.Activation;
import bertj.loader.BertConfig;

import java.lang.foreign.MemorySegment;

/**
 * {@code BertLayer} (post-LN transformer block):
 * <pre>
 *   a = LayerNorm(x + Dense(MultiHeadSelfAttention(x, mask)))      BertAttention
 *   y = LayerNorm(a + Dense(act(Dense(a))))                         BertIntermediate + BertOutput
 * </pre>
 * Query, key and value projections run as one fused Linear with 3H outputs.
 */
final class BertLayer {
    private final int hidden;
    private final int heads;
    private final int headSize;
    private final float eps;
    private final Activation activation;
    private final Kernels.LinearWeights queryKeyValue;   // attention.self.{query,key,value}
    private final Kernels.LinearWeights attentionOutput; // attention.output.dense
    private final MemorySegment attentionGamma;
    private final MemorySegment attentionBeta;
    private final Kernels.LinearWeights intermediate;    // intermediate.dense
    private final Kernels.LinearWeights output;          // output.dense
    private final MemorySegment outputGamma;
    private final MemorySegment outputBeta;

    BertLayer(BertConfig config, Weights weights, int index) {
        String p = "encoder.layer." + index + ".";
        hidden = config.hiddenSize();
        heads = config.numAttentionHeads();
        headSize = hidden / heads;
        eps = (float) config.layerNormEps();
        activation = Activations.of(config);
        int inter = config.intermediateSize();
        queryKeyValue = weights.fusedLinear(hidden, hidden,
                p + "attention.self.query", p + "attention.self.key", p + "attention.self.value");
        attentionOutput = weights.linear(p + "attention.output.dense", hidden, hidden);
        attentionGamma = weights.vector(p + "attention.output.LayerNorm.weight", hidden);
        attentionBeta = weights.vector(p + "attention.output.LayerNorm.bias", hidden);
        intermediate = weights.linear(p + "intermediate.dense", hidden, inter);
        output = weights.linear(p + "output.dense", inter, hidden);
        outputGamma = weights.vector(p + "output.LayerNorm.weight", hidden);
        outputBeta = weights.vector(p + "output.LayerNorm.bias", hidden);
    }

    /**
     * x[T, H] in place; probs, when not null, receives each sequence's [heads, S, S] attention probabilities.
     * mask is the additive mask of a padded batch whose attention needs one, else null.
     */
    void forward(Kernels kernels, Workspace ws, Sequences input, MemorySegment mask, MemorySegment probs) {
        int tokens = input.tokens();
        MemorySegment x = Workspace.floats(ws.hiddenState, (long) tokens * hidden);
        MemorySegment qkv = Workspace.floats(ws.qkv, 3L * tokens * hidden);
        MemorySegment context = Workspace.floats(ws.context, (long) tokens * hidden);
        MemorySegment a = Workspace.floats(ws.attention, (long) tokens * hidden);
        MemorySegment inner = Workspace.floats(ws.ffn, (long) tokens * intermediate.out());
        MemorySegment projected = Workspace.floats(ws.context, (long) tokens * hidden);

        kernels.linear(x, tokens, queryKeyValue, qkv, Activation.NONE);
        kernels.attention(qkv, input.starts(), input.keys(), heads, headSize, mask, context, probs);
        kernels.linear(context, tokens, attentionOutput, a, Activation.NONE);
        kernels.addLayerNorm(a, x, tokens, hidden, attentionGamma, attentionBeta, eps, a);

        kernels.linear(a, tokens, intermediate, inner, activation);
        kernels.linear(inner, tokens, output, projected, Activation.NONE);
        kernels.addLayerNorm(projected, a, tokens, hidden, outputGamma, outputBeta, eps, x);
    }
}
