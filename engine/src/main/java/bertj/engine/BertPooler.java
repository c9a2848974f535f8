package bertj.engine;

import bertj.kernels.Activation;

import java.lang.foreign.MemorySegment;

/** {@code BertPooler}: tanh(Dense(hidden state of the first token)) per sequence. */
final class BertPooler {
    private final int hidden;
    private final Ops ops;
    private final Ops.LinearWeights dense;

    BertPooler(int hidden, Weights weights, Ops ops) {
        this.hidden = hidden;
        this.ops = ops;
        this.dense = weights.linear("pooler.dense", hidden, hidden);
    }

    /** Fills ws.pooled[B, H] from ws.hiddenState. */
    void forward(Workspace ws, int batch, int seqLen) {
        long rowBytes = (long) hidden * Float.BYTES;
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(ws.hiddenState, b * seqLen * rowBytes, ws.firstTokens, b * rowBytes, rowBytes);
        }
        ops.linear(Workspace.floats(ws.firstTokens, (long) batch * hidden), batch, dense,
                Workspace.floats(ws.pooled, (long) batch * hidden), Activation.TANH);
    }
}
