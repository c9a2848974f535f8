package bertj.engine;

import bertj.kernels.Activation;
import bertj.loader.BertConfig;

import java.lang.foreign.MemorySegment;

/**
 * {@code BertLayer} (post-LN transformer block), in the four steps of Hugging Face's {@code modeling_bert.py}:
 * <pre>
 *   context = MultiHeadSelfAttention(x, mask)              BertSelfAttention   (selfAttention)
 *   a       = LayerNorm(x + Dense(context))                BertSelfOutput      (selfOutput)
 *   inner   = act(Dense(a))                                BertIntermediate    (intermediate)
 *   x       = LayerNorm(a + Dense(inner))                  BertOutput          (output)
 * </pre>
 * The first two are Hugging Face's {@code BertAttention}. Query, key and value projections run as one fused
 * Linear with 3H outputs. Each step reads and writes the named slices of the {@link Workspace}.
 */
final class BertLayer {
    private final int hidden;
    private final int heads;
    private final int headSize;
    private final float eps;
    private final Activation activation;
    private final Kernels.LinearWeights queryKeyValue;     // attention.self.{query,key,value}   BertSelfAttention
    private final Kernels.LinearWeights selfOutputDense;   // attention.output.dense            BertSelfOutput
    private final MemorySegment selfOutputGamma;           // attention.output.LayerNorm
    private final MemorySegment selfOutputBeta;
    private final Kernels.LinearWeights intermediateDense; // intermediate.dense                BertIntermediate
    private final Kernels.LinearWeights outputDense;       // output.dense                      BertOutput
    private final MemorySegment outputGamma;               // output.LayerNorm
    private final MemorySegment outputBeta;

    BertLayer(BertConfig config, Weights weights, int index) {
        String p = "encoder.layer." + index + ".";
        hidden = config.hiddenSize();
        heads = config.numAttentionHeads();
        headSize = hidden / heads;
        eps = (float) config.layerNormEps();
        activation = HiddenAct.of(config);
        int inter = config.intermediateSize();
        queryKeyValue = weights.fusedLinear(hidden, hidden,
                p + "attention.self.query", p + "attention.self.key", p + "attention.self.value");
        selfOutputDense = weights.linear(p + "attention.output.dense", hidden, hidden);
        selfOutputGamma = weights.vector(p + "attention.output.LayerNorm.weight", hidden);
        selfOutputBeta = weights.vector(p + "attention.output.LayerNorm.bias", hidden);
        intermediateDense = weights.linear(p + "intermediate.dense", hidden, inter);
        outputDense = weights.linear(p + "output.dense", inter, hidden);
        outputGamma = weights.vector(p + "output.LayerNorm.weight", hidden);
        outputBeta = weights.vector(p + "output.LayerNorm.bias", hidden);
    }

    /**
     * {@code BertLayer.forward}: the hidden state [T, H] in place. probs, when not null, receives each sequence's
     * [heads, S, S] attention probabilities.
     */
    void forward(Kernels kernels, Workspace ws, Sequences input, MemorySegment probs) {
        selfAttention(kernels, ws, input, probs);
        selfOutput(kernels, ws, input.tokens());
        intermediate(kernels, ws, input.tokens());
        output(kernels, ws, input.tokens());
    }

    /**
     * {@code BertSelfAttention}: the fused query, key and value projections of the hidden state, then
     * {@code context = softmax(Q K^T / sqrt(d) + mask) V} per head. Each sequence attends its first
     * {@code input.keys()} rows, and the mask is left to attention only when a key among them is masked.
     */
    private void selfAttention(Kernels kernels, Workspace ws, Sequences input, MemorySegment probs) {
        MemorySegment qkv = ws.queryKeyValue();
        kernels.linear(ws.hiddenState(), input.tokens(), queryKeyValue, qkv, Activation.NONE);
        kernels.attention(qkv, input.starts(), input.keys(), heads, headSize, input.attentionMask(), ws.context(), probs);
    }

    /** {@code BertSelfOutput}: {@code attentionOutput = LayerNorm(dense(context) + hiddenState)}. */
    private void selfOutput(Kernels kernels, Workspace ws, int tokens) {
        MemorySegment a = ws.attentionOutput();
        kernels.linear(ws.context(), tokens, selfOutputDense, a, Activation.NONE);
        kernels.addLayerNorm(a, ws.hiddenState(), tokens, hidden, selfOutputGamma, selfOutputBeta, eps, a);
    }

    /** {@code BertIntermediate}: {@code intermediate = act(dense(attentionOutput))}, [T, I]. */
    private void intermediate(Kernels kernels, Workspace ws, int tokens) {
        kernels.linear(ws.attentionOutput(), tokens, intermediateDense, ws.intermediate(), activation);
    }

    /** {@code BertOutput}: {@code hiddenState = LayerNorm(dense(intermediate) + attentionOutput)}. */
    private void output(Kernels kernels, Workspace ws, int tokens) {
        MemorySegment projected = ws.outputDense();
        kernels.linear(ws.intermediate(), tokens, outputDense, projected, Activation.NONE);
        kernels.addLayerNorm(projected, ws.attentionOutput(), tokens, hidden, outputGamma, outputBeta, eps, ws.hiddenState());
    }
}
