package bertj.engine;

import bertj.kernels.Activation;

import java.lang.foreign.MemorySegment;

/** {@code BertPooler}: tanh(Dense(hidden state of the first token)) per sequence. */
final class BertPooler {
    private final int hidden;
    private final Kernels.LinearWeights dense;

    BertPooler(int hidden, Weights weights) {
        this.hidden = hidden;
        this.dense = weights.linear("pooler.dense", hidden, hidden);
    }

    /** Fills ws.pooled() [B, H] from the first row of each sequence in ws.hiddenState(). */
    void forward(Kernels kernels, Workspace ws, int[] starts) {
        int batch = starts.length - 1;
        long rowBytes = (long) hidden * Float.BYTES;
        MemorySegment firstTokens = ws.firstTokens();
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(ws.hiddenState(), starts[b] * rowBytes, firstTokens, b * rowBytes, rowBytes);
        }
        MemorySegment pooled = ws.pooled();
        long t = Profile.start();
        Kernels untimed = kernels.unprofiled(); // timed here as one op, "pooler"
        untimed.linear(firstTokens, batch, dense, pooled, Activation.NONE);
        // Not the Linear's fused vector tanh: see Kernels.poolerTanh.
        untimed.poolerTanh(pooled, (long) batch * hidden);
        Profile.record("pooler", t);
    }
}
