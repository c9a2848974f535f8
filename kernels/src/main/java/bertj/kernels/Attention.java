package bertj.kernels;

import static bertj.kernels.GemmKernel.ROWS;
import static bertj.kernels.GemmKernel.WIDTH;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Multi-head self-attention on the fused QKV projection:
 * {@code out = concat_h softmax(Q_h K_h^T / sqrt(d) + mask) V_h}, as Hugging Face's {@code BertSelfAttention}
 * (no dropout: inference).
 *
 * <p>Layout. {@code qkv} is {@code [batch * seqLen, 3 * hidden]} with each row {@code [Q | K | V]}, and
 * head h owning columns {@code h*d .. (h+1)*d} of each part. Q, K and V are read in place; per
 * (sequence, head) task the kernel copies that head's Q (interleaved for the micro-kernel), K^T and V (as
 * 16-wide panels) into per-thread heap scratch: {@code O(seqLen * d)} floats, small next to the
 * {@code O(seqLen^2 * d)} products. The scores live in a per-thread native buffer of seqLen^2 floats
 * (allocated once per thread in an automatic arena, grown when a longer sequence comes), where the softmax
 * runs in place. Both products use the {@link GemmKernel} of {@link Linear}.
 *
 * <p>Every query row is computed, padded ones included (their keys are masked like any other row's). A
 * sequence masked everywhere with float32's minimum attends uniformly, as in PyTorch.
 */
public final class Attention {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Attention() {}

    /** Per-thread buffers, reused across calls and grown when needed. */
    private static final class Scratch {
        float[] queries = new float[0];
        float[] keyPanels = new float[0];
        float[] valuePanels = new float[0];
        float[] probabilities = new float[0];
        float[] row = new float[0];
        MemorySegment scores = MemorySegment.NULL;

        void ensure(int seqLen, int headSize) {
            int keyPanelCount = (seqLen + WIDTH - 1) / WIDTH;
            int valuePanelCount = (headSize + WIDTH - 1) / WIDTH;
            queries = grow(queries, seqLen * headSize);
            keyPanels = grow(keyPanels, keyPanelCount * WIDTH * headSize);
            valuePanels = grow(valuePanels, valuePanelCount * WIDTH * seqLen);
            probabilities = grow(probabilities, seqLen * seqLen);
            row = grow(row, Math.max(seqLen, headSize));
            if (scores.byteSize() < 4L * seqLen * seqLen) {
                scores = Arena.ofAuto().allocate(4L * seqLen * seqLen, 64);
            }
        }

        private static float[] grow(float[] array, int length) {
            return array.length >= length ? array : new float[length];
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * @param qkv          {@code [batch * seqLen, 3 * heads * headSize]} F32
     * @param additiveMask {@code [batch, seqLen]} F32 added to every score row of that sequence (0 for
     *                     tokens, float32's minimum for padding), or null for none
     * @param out          {@code [batch * seqLen, heads * headSize]} F32, written
     * @param probsOrNull  {@code [batch, heads, seqLen, seqLen]} F32 written with the attention
     *                     probabilities, or null
     */
    public static void forward(ThreadPool pool, MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            MemorySegment additiveMask, MemorySegment out, MemorySegment probsOrNull) {
        check(qkv, batch, seqLen, heads, headSize, additiveMask, out, probsOrNull);
        if (pool == null) {
            throw new IllegalArgumentException("pool must not be null");
        }
        if (pool.threads() > 1) {
            pool.requireAccessible("qkv", qkv);
            pool.requireAccessible("out", out);
            if (additiveMask != null) {
                pool.requireAccessible("additiveMask", additiveMask);
            }
            if (probsOrNull != null) {
                pool.requireAccessible("probsOrNull", probsOrNull);
            }
        }
        pool.parallelFor(batch * heads, task -> head(qkv, task / heads, task % heads, seqLen, heads, headSize,
                additiveMask, out, probsOrNull));
    }

    /** One (sequence, head) pair. */
    private static void head(MemorySegment qkv, int b, int h, int seqLen, int heads, int d, MemorySegment mask,
            MemorySegment out, MemorySegment probs) {
        int hidden = heads * d;
        long qkvStride = 3L * hidden;
        long firstRow = (long) b * seqLen * qkvStride;
        Scratch s = SCRATCH.get();
        s.ensure(seqLen, d);

        // Q, interleaved in tiles of ROWS query rows: [c][r].
        Linear.interleaveRows(qkv, firstRow + (long) h * d, qkvStride, seqLen, d, s.queries, s.row);
        // K^T in panels of WIDTH keys: keyPanels[panel][c][key % WIDTH]. Padding keys of the last panel keep
        // stale values: their score columns are computed but never stored.
        for (int j = 0; j < seqLen; j++) {
            MemorySegment.copy(qkv, FLOAT, 4 * (firstRow + j * qkvStride + hidden + (long) h * d), s.row, 0, d);
            int at = j / WIDTH * WIDTH * d + j % WIDTH;
            for (int c = 0; c < d; c++, at += WIDTH) {
                s.keyPanels[at] = s.row[c];
            }
        }
        // V in panels of WIDTH columns: valuePanels[panel][j][c % WIDTH].
        for (int j = 0; j < seqLen; j++) {
            MemorySegment.copy(qkv, FLOAT, 4 * (firstRow + j * qkvStride + 2L * hidden + (long) h * d), s.row, 0, d);
            for (int c0 = 0; c0 < d; c0 += WIDTH) {
                System.arraycopy(s.row, c0, s.valuePanels, c0 * seqLen + j * WIDTH, Math.min(WIDTH, d - c0));
            }
        }

        // scores[i, j] = q_i . k_j, then softmax(scores / sqrt(d) + mask) row by row.
        MemorySegment scores = s.scores;
        long scoreStride = 4L * seqLen;
        for (int i = 0; i < seqLen; i += ROWS) {
            int rows = Math.min(ROWS, seqLen - i);
            for (int j0 = 0; j0 < seqLen; j0 += WIDTH) {
                GemmKernel.tile(rows, s.queries, i * d, s.keyPanels, j0 * d, d, null, 0, false,
                        scores, i * scoreStride + 4L * j0, scoreStride, Math.min(WIDTH, seqLen - j0));
            }
        }
        float scale = (float) (1 / Math.sqrt(d));
        for (int i = 0; i < seqLen; i++) {
            Softmax.row(scores, i * scoreStride, seqLen, mask, 4L * b * seqLen, scale);
        }
        if (probs != null) {
            long headOffset = ((long) b * heads + h) * seqLen * seqLen;
            MemorySegment.copy(scores, 0, probs, 4 * headOffset, 4L * seqLen * seqLen);
        }

        // out[i, h*d + c] = sum_j p[i, j] v_j[c].
        Linear.interleaveRows(scores, 0, seqLen, seqLen, seqLen, s.probabilities, s.row);
        long outStride = 4L * hidden;
        long outFirst = 4L * ((long) b * seqLen * hidden + (long) h * d);
        for (int i = 0; i < seqLen; i += ROWS) {
            int rows = Math.min(ROWS, seqLen - i);
            for (int c0 = 0; c0 < d; c0 += WIDTH) {
                GemmKernel.tile(rows, s.probabilities, i * seqLen, s.valuePanels, c0 * seqLen, seqLen, null, 0,
                        false, out, outFirst + i * outStride + 4L * c0, outStride, Math.min(WIDTH, d - c0));
            }
        }
    }

    /**
     * The scalar twin of {@link #forward}: scores {@code (float) (q . k) * scale + mask} formed in float as
     * PyTorch does, softmax and both products accumulated in double.
     */
    public static void forwardScalar(MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            MemorySegment additiveMask, MemorySegment out, MemorySegment probsOrNull) {
        check(qkv, batch, seqLen, heads, headSize, additiveMask, out, probsOrNull);
        int hidden = heads * headSize;
        long stride = 3L * hidden;
        float scale = (float) (1 / Math.sqrt(headSize));
        float[] scores = new float[seqLen];
        double[] p = new double[seqLen];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                long q0 = (long) b * seqLen * stride + (long) h * headSize;
                long k0 = q0 + hidden;
                long v0 = q0 + 2L * hidden;
                for (int i = 0; i < seqLen; i++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < seqLen; j++) {
                        double dot = 0;
                        for (int c = 0; c < headSize; c++) {
                            dot += (double) qkv.getAtIndex(FLOAT, q0 + i * stride + c)
                                    * qkv.getAtIndex(FLOAT, k0 + j * stride + c);
                        }
                        float score = (float) dot * scale;
                        if (additiveMask != null) {
                            score += additiveMask.getAtIndex(FLOAT, (long) b * seqLen + j);
                        }
                        scores[j] = score;
                        max = Math.max(max, score);
                    }
                    double sum = 0;
                    for (int j = 0; j < seqLen; j++) {
                        p[j] = Math.exp((double) scores[j] - max);
                        sum += p[j];
                    }
                    for (int j = 0; j < seqLen; j++) {
                        p[j] /= sum;
                        if (probsOrNull != null) {
                            probsOrNull.setAtIndex(FLOAT, (((long) b * heads + h) * seqLen + i) * seqLen + j,
                                    (float) p[j]);
                        }
                    }
                    for (int c = 0; c < headSize; c++) {
                        double acc = 0;
                        for (int j = 0; j < seqLen; j++) {
                            acc += p[j] * qkv.getAtIndex(FLOAT, v0 + j * stride + c);
                        }
                        out.setAtIndex(FLOAT, ((long) b * seqLen + i) * hidden + (long) h * headSize + c, (float) acc);
                    }
                }
            }
        }
    }

    private static void check(MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            MemorySegment additiveMask, MemorySegment out, MemorySegment probsOrNull) {
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
        Activations.checkMatrix("qkv", qkv, (int) tokens, (int) (3 * hidden));
        Activations.checkMatrix("out", out, (int) tokens, (int) hidden);
        if (additiveMask != null) {
            Activations.checkMatrix("additiveMask", additiveMask, batch, seqLen);
        }
        if (probsOrNull != null) {
            Activations.checkLength("probsOrNull", probsOrNull, (long) batch * heads * seqLen * seqLen);
        }
    }
}
