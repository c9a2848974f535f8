package bertj.engine;

import bertj.kernels.Activation;
import bertj.kernels.reference.ReferenceKernels;

import java.lang.foreign.MemorySegment;

/** {@code BertPooler}: tanh(Dense(hidden state of the first token)) per sequence. */
final class BertPooler {
    private final int hidden;
    private final Ops.LinearWeights dense;

    BertPooler(int hidden, Weights weights) {
        this.hidden = hidden;
        this.dense = weights.linear("pooler.dense", hidden, hidden);
    }

    /** Fills ws.pooled[B, H] from the first row of each sequence in ws.hiddenState. */
    void forward(Ops ops, Workspace ws, int[] starts) {
        int batch = starts.length - 1;
        long rowBytes = (long) hidden * Float.BYTES;
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(ws.hiddenState, starts[b] * rowBytes, ws.firstTokens, b * rowBytes, rowBytes);
        }
        MemorySegment pooled = Workspace.floats(ws.pooled, (long) batch * hidden);
        long t = Ops.start();
        ops.linearUntimed(Workspace.floats(ws.firstTokens, (long) batch * hidden), batch, dense, pooled, Activation.NONE);
        // The reference tanh (double, rounded once), not the Linear's fused vector one: one row per sequence is too
        // little work for C2 to compile that loop soon, and outside C2 every vector is a heap object. In about
        // half the JVMs it was still so after 6 s of forwards: 1.3-1.9 ms per forward for bert-base's 768 floats,
        // 8% of a forward at 8 tokens. The scalar loop takes microseconds.
        ReferenceKernels.tanh(pooled, (long) batch * hidden);
        Ops.record("pooler", t);
    }
}
