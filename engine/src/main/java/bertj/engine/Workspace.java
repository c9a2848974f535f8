package bertj.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap working memory of one forward call, reused across calls: a few buffers, sized for a number of tokens
 * and grown (reallocated) when a larger batch arrives, and the named slices that the model's steps read and write
 * in them, each {@code [T, ...]} for the call's T tokens and B sequences ({@link #prepare}).
 *
 * <p>Two slices share a buffer only where one is dead before the other is written; that reuse is named here,
 * at {@link #outputDense()}, and nowhere else.
 */
final class Workspace implements AutoCloseable {
    private static final long FLOAT = Float.BYTES;
    /** How many buffers {@link #prepare} allocates, each aligned to 64 bytes. */
    private static final int BUFFERS = 7;

    private final int hidden;
    private final int intermediateSize;
    private Arena arena;
    private int capacityTokens;
    private int capacityBatch;
    private int tokens;
    private int batch;

    private MemorySegment hiddenStateBuffer;    // [T, H]
    private MemorySegment qkvBuffer;            // [T, 3H]
    private MemorySegment contextBuffer;        // [T, H]  context, then the output dense
    private MemorySegment attentionBuffer;      // [T, H]
    private MemorySegment intermediateBuffer;   // [T, I]
    private MemorySegment firstTokensBuffer;    // [B, H]
    private MemorySegment pooledBuffer;         // [B, H]

    Workspace(int hidden, int intermediateSize) {
        this.hidden = hidden;
        this.intermediateSize = intermediateSize;
    }

    /** Bytes needed for a call of {@code tokens} tokens in {@code batch} sequences. */
    static long bytesFor(int tokens, int batch, int hidden, int intermediate) {
        long perToken = 6L * hidden + intermediate;
        return FLOAT * ((long) tokens * perToken + 2L * batch * hidden) + BUFFERS * 64;
    }

    /** Sizes the slices for a call of {@code tokens} tokens in {@code batch} sequences, growing the buffers if needed. */
    void prepare(int tokens, int batch) {
        this.tokens = tokens;
        this.batch = batch;
        if (arena != null && tokens <= capacityTokens && batch <= capacityBatch) return;
        close();
        capacityTokens = Math.max(tokens, capacityTokens);
        capacityBatch = Math.max(batch, capacityBatch);
        arena = Arena.ofShared();
        long t = capacityTokens;
        hiddenStateBuffer = allocate(t * hidden);
        qkvBuffer = allocate(t * 3 * hidden);
        contextBuffer = allocate(t * hidden);
        attentionBuffer = allocate(t * hidden);
        intermediateBuffer = allocate(t * intermediateSize);
        firstTokensBuffer = allocate((long) capacityBatch * hidden);
        pooledBuffer = allocate((long) capacityBatch * hidden);
    }

    /** [T, H] the residual stream: the embeddings' output, then each layer's output in its place. */
    MemorySegment hiddenState() {
        return floats(hiddenStateBuffer, (long) tokens * hidden);
    }

    /** [T, 3H] BertSelfAttention's query, key and value projections, each row {@code [Q | K | V]}. */
    MemorySegment queryKeyValue() {
        return floats(qkvBuffer, 3L * tokens * hidden);
    }

    /** [T, H] BertSelfAttention's output: each head's context vectors, side by side. */
    MemorySegment context() {
        return floats(contextBuffer, (long) tokens * hidden);
    }

    /** [T, H] BertSelfOutput's output, {@code LayerNorm(dense(context) + hiddenState)}: the attention block's output. */
    MemorySegment attentionOutput() {
        return floats(attentionBuffer, (long) tokens * hidden);
    }

    /** [T, I] BertIntermediate's output, {@code act(dense(attentionOutput))}. */
    MemorySegment intermediate() {
        return floats(intermediateBuffer, (long) tokens * intermediateSize);
    }

    /**
     * [T, H] BertOutput's dense projection of the intermediate output, before its residual and LayerNorm. It reuses
     * {@link #context()}'s memory: the context is dead once BertSelfOutput has projected it.
     */
    MemorySegment outputDense() {
        return floats(contextBuffer, (long) tokens * hidden);
    }

    /** [B, H] the hidden state of each sequence's first token ([CLS]), BertPooler's input. */
    MemorySegment firstTokens() {
        return floats(firstTokensBuffer, (long) batch * hidden);
    }

    /** [B, H] BertPooler's output. */
    MemorySegment pooled() {
        return floats(pooledBuffer, (long) batch * hidden);
    }

    private MemorySegment allocate(long floats) {
        return arena.allocate(floats * FLOAT, 64);
    }

    private static MemorySegment floats(MemorySegment segment, long count) {
        return segment.asSlice(0, count * FLOAT);
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }
}
