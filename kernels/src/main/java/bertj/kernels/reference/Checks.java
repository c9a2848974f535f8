package bertj.kernels.reference;

import java.lang.foreign.MemorySegment;

/**
 * The argument checks of every kernel, SIMD and reference alike: a shape or segment that does not fit
 * throws {@link IllegalArgumentException} naming the argument. Here, in plain Java, so that the reference
 * kernels need nothing that loads the Vector API.
 */
public final class Checks {
    private Checks() {}

    /** {@code segment} holds at least {@code floats} floats; returns {@code floats}. */
    public static long length(String name, MemorySegment segment, long floats) {
        if (segment == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (floats < 0) {
            throw new IllegalArgumentException("length of " + name + " must be >= 0, got " + floats);
        }
        if (segment.byteSize() < 4 * floats) {
            throw new IllegalArgumentException(name + " has " + segment.byteSize() / 4 + " floats, needs " + floats);
        }
        return floats;
    }

    /** {@code values} holds at least {@code count} ints. */
    public static void ints(String name, int[] values, long count) {
        if (values.length < count) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, needs " + count);
        }
    }

    /** {@code segment} holds at least a {@code [rows, cols]} matrix of floats. */
    public static void matrix(String name, MemorySegment segment, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(name + " shape [" + rows + ", " + cols + "] must not be negative");
        }
        if (segment == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (segment.byteSize() < 4L * rows * cols) {
            throw new IllegalArgumentException(name + " has " + segment.byteSize() / 4 + " floats, needs [" + rows
                    + ", " + cols + "] = " + (long) rows * cols);
        }
    }

    /** The arguments of a LayerNorm over {@code [rows, cols]} (residual may be null). */
    public static void layerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
            MemorySegment beta, MemorySegment out) {
        if (cols <= 0) {
            throw new IllegalArgumentException("LayerNorm cols must be positive, got " + cols);
        }
        matrix("x", x, rows, cols);
        if (residual != null) {
            matrix("residual", residual, rows, cols);
        }
        matrix("out", out, rows, cols);
        length("gamma", gamma, cols);
        length("beta", beta, cols);
    }

    /** The arguments of a softmax over the rows of {@code x [rows, cols]} (mask may be null). */
    public static void softmax(MemorySegment x, int rows, int cols, MemorySegment mask) {
        matrix("x", x, rows, cols);
        if (mask != null) {
            length("mask", mask, cols);
        }
    }

    /** The shape and buffers of attention over a padded batch. */
    public static void attention(MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        if (batch < 0 || seqLen < 0 || heads <= 0 || headSize <= 0) {
            throw new IllegalArgumentException("attention shape must have batch, seqLen >= 0 and heads, headSize > 0,"
                    + " got batch=" + batch + " seqLen=" + seqLen + " heads=" + heads + " headSize=" + headSize);
        }
        long tokens = (long) batch * seqLen;
        long hidden = (long) heads * headSize;
        if (tokens * 3 * hidden > Integer.MAX_VALUE || (long) seqLen * seqLen > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("attention shape too large: batch=" + batch + " seqLen=" + seqLen
                    + " hidden=" + hidden);
        }
        matrix("qkv", qkv, (int) tokens, (int) (3 * hidden));
        matrix("out", out, (int) tokens, (int) hidden);
        if (attentionMask != null) {
            ints("attentionMask", attentionMask, tokens);
        }
        if (probsOrNull != null) {
            length("probsOrNull", probsOrNull, (long) batch * heads * seqLen * seqLen);
        }
    }

    /**
     * The sequences' bounds, key counts and buffers of attention over sequences given by {@code starts} and
     * {@code keys}; returns where each sequence's probabilities start in {@code probsOrNull} (in floats).
     */
    public static long[] attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        if (starts == null || keys == null || starts.length < 1 || keys.length != starts.length - 1 || starts[0] != 0) {
            throw new IllegalArgumentException("starts must begin with 0 and have one entry more than keys, got "
                    + (starts == null ? "null" : starts.length + " starts") + " and "
                    + (keys == null ? "null" : keys.length + " keys"));
        }
        if (heads <= 0 || headSize <= 0) {
            throw new IllegalArgumentException("heads and headSize must be > 0, got heads=" + heads + " headSize=" + headSize);
        }
        int count = keys.length;
        long[] probsStarts = new long[count + 1];
        for (int s = 0; s < count; s++) {
            int length = starts[s + 1] - starts[s];
            if (length < 1 || keys[s] < 1 || keys[s] > length) {
                throw new IllegalArgumentException("sequence " + s + " has rows " + starts[s] + " to " + starts[s + 1]
                        + " and " + keys[s] + " keys: every sequence needs at least one row, and 1 to its length keys");
            }
            probsStarts[s + 1] = probsStarts[s] + (long) heads * length * length;
        }
        long tokens = starts[count];
        long hidden = (long) heads * headSize;
        if (tokens * 3 * hidden > Integer.MAX_VALUE || probsStarts[count] > Long.MAX_VALUE / 8) {
            throw new IllegalArgumentException("attention shape too large: " + tokens + " rows, hidden=" + hidden);
        }
        matrix("qkv", qkv, (int) tokens, (int) (3 * hidden));
        matrix("out", out, (int) tokens, (int) hidden);
        if (attentionMask != null) {
            ints("attentionMask", attentionMask, tokens);
        }
        if (probsOrNull != null) {
            length("probsOrNull", probsOrNull, probsStarts[count]);
        }
        return probsStarts;
    }
}
