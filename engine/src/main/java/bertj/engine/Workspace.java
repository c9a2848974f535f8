package bertj.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap working memory of one forward call, reused across calls. Sized for a number of tokens
 * and grown (reallocated) when a larger batch arrives.
 */
final class Workspace implements AutoCloseable {
    private static final long FLOAT = Float.BYTES;

    private final int hidden;
    private final int intermediate;
    private Arena arena;
    private int capacityTokens;
    private int capacityBatch;

    MemorySegment hiddenState;   // [T, H]  the residual stream
    MemorySegment qkv;           // [T, 3H] fused query/key/value projections
    MemorySegment context;       // [T, H]  attention output before its dense layer
    MemorySegment attention;     // [T, H]  LN(dense(context) + hiddenState)
    MemorySegment ffn;           // [T, I]  intermediate activations, then [T, H] output dense
    MemorySegment mask;          // [B, S]  additive attention mask
    MemorySegment firstTokens;   // [B, H]  token 0 of each sequence, the pooler's input
    MemorySegment pooled;        // [B, H]

    Workspace(int hidden, int intermediate) {
        this.hidden = hidden;
        this.intermediate = intermediate;
    }

    /** Bytes needed for a call of {@code tokens} tokens in {@code batch} sequences. */
    static long bytesFor(int tokens, int batch, int hidden, int intermediate) {
        long perToken = 6L * hidden + Math.max(intermediate, hidden) + 1;
        return FLOAT * ((long) tokens * perToken + 2L * batch * hidden) + 6 * 64;
    }

    void ensure(int tokens, int batch) {
        if (arena != null && tokens <= capacityTokens && batch <= capacityBatch) return;
        close();
        capacityTokens = Math.max(tokens, capacityTokens);
        capacityBatch = Math.max(batch, capacityBatch);
        arena = Arena.ofShared();
        long t = capacityTokens;
        hiddenState = allocate(t * hidden);
        qkv = allocate(t * 3 * hidden);
        context = allocate(t * hidden);
        attention = allocate(t * hidden);
        ffn = allocate(t * Math.max(intermediate, hidden));
        mask = allocate(t);
        firstTokens = allocate((long) capacityBatch * hidden);
        pooled = allocate((long) capacityBatch * hidden);
    }

    private MemorySegment allocate(long floats) {
        return arena.allocate(floats * FLOAT, 64);
    }

    static MemorySegment floats(MemorySegment segment, long count) {
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
