package bertj.kernels;

import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.Tuning.TILE_ROWS;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.Checks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Multi-head self-attention on the fused QKV projection:
 * {@code out = concat_h softmax(Q_h K_h^T / sqrt(d) + mask) V_h}, as Hugging Face's {@code BertSelfAttention}
 * (no dropout: inference). The mask is Hugging Face's {@code attention_mask}: 1 for a key attended, 0 for one
 * masked, which PyTorch's extended mask adds to its scores as float32's minimum.
 *
 * <p>Layout. {@code qkv} is {@code [tokens, 3 * hidden]} with each row {@code [Q | K | V]}, and head h
 * owning columns {@code h*d .. (h+1)*d} of each part; a sequence is a run of rows. One task per sequence
 * and group of heads copies the group's columns of the sequence's rows into per-thread heap scratch, then
 * for each head lays out K^T and V as {@link Tuning#PANEL_WIDTH}-wide panels: {@code O(seqLen * d)} floats, small next
 * to the {@code O(seqLen^2 * d)} products. Then, per tile of
 * {@link Tuning#TILE_ROWS} queries, it computes the tile's scores, their softmax and the tile's output, all in a
 * TILE_ROWS x seqLen heap array that stays in L1: the seqLen x seqLen matrix is never materialised. Everything
 * the inner loops read is a heap array, where C2 hoists the bounds checks out of the loop.
 *
 * <p>Every query row is computed, padded ones included (their keys are masked like any other row's). A
 * sequence masked everywhere attends uniformly, as in PyTorch.
 *
 * <p>The reference twin, one query and key at a time in double, is
 * {@link bertj.kernels.reference.ReferenceKernels#attention(MemorySegment, int[], int[], int, int, int[],
 * MemorySegment, MemorySegment)}.
 */
public final class Attention {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Attention() {}

    /** Per-thread buffers, reused across calls and grown when needed. */
    private static final class Scratch {
        float[] staged = new float[0];       // a group of heads' Q [tiledRows][width], K and V [seqLen][width]
        float[] keyPanels = new float[0];    // [key panel][c][PANEL_WIDTH]
        float[] valuePanels = new float[0];  // [column panel][j][PANEL_WIDTH]
        float[] scores = new float[0];       // [TILE_ROWS][seqLen rounded up to PANEL_WIDTH]: scores, then probabilities
        float[] mask = new float[0];         // [seqLen] the additive mask: 0, or float32's minimum for a masked key
        float[] probabilities = new float[0]; // [seqLen], one row of probabilities when they are asked for
        final float[] inverseSums = new float[TILE_ROWS];
        final float[] lanes = new float[LANES];                        // one vector's lanes, to add them in order
        final float[] tileOut = new float[TILE_ROWS * PANEL_WIDTH];   // one output tile before its scaling

        void ensure(int seqLen, int headSize, int width) {
            int keyPanelCount = (seqLen + PANEL_WIDTH - 1) / PANEL_WIDTH;
            int valuePanelCount = (headSize + PANEL_WIDTH - 1) / PANEL_WIDTH;
            staged = grow(staged, (3 * seqLen + TILE_ROWS) * width);
            keyPanels = grow(keyPanels, keyPanelCount * PANEL_WIDTH * headSize);
            valuePanels = grow(valuePanels, valuePanelCount * PANEL_WIDTH * seqLen);
            scores = grow(scores, TILE_ROWS * keyPanelCount * PANEL_WIDTH);
            mask = grow(mask, seqLen);
            probabilities = grow(probabilities, seqLen);
        }

        private static float[] grow(float[] array, int length) {
            return array.length >= length ? array : new float[length];
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Attention over a padded batch: {@code batch} sequences of {@code seqLen} rows each. A sequence's queries
     * attend its keys up to its last one not masked (see {@link #keysBeforePadding}).
     *
     * @param qkv           {@code [batch * seqLen, 3 * heads * headSize]} F32
     * @param attentionMask {@code [batch, seqLen]}: 1 for a key attended, 0 for one masked (padding), or null
     *                      for none
     * @param out           {@code [batch * seqLen, heads * headSize]} F32, written
     * @param probsOrNull   {@code [batch, heads, seqLen, seqLen]} F32 written with the attention
     *                      probabilities, or null
     */
    public static void forward(ThreadPool pool, MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        Checks.attention(qkv, batch, seqLen, heads, headSize, attentionMask, out, probsOrNull);
        if (pool == null) {
            throw new IllegalArgumentException("pool must not be null");
        }
        if (seqLen == 0) {
            return;
        }
        int[] starts = new int[batch + 1];
        int[] keys = new int[batch];
        for (int b = 0; b < batch; b++) {
            starts[b + 1] = (b + 1) * seqLen;
            keys[b] = attentionMask == null ? seqLen : keysBeforePadding(attentionMask, b * seqLen, seqLen);
        }
        forward(pool, qkv, starts, keys, heads, headSize, attentionMask, out, probsOrNull);
    }

    /**
     * Attention over sequences of any lengths, packed back to back without padding, or padded.
     *
     * @param qkv           {@code [tokens, 3 * heads * headSize]} F32; sequence s owns rows {@code starts[s]} to
     *                      {@code starts[s + 1]}, and {@code tokens = starts[count]}
     * @param starts        the first row of each sequence, then the number of rows; starts[0] = 0
     * @param keys          per sequence, how many of its first rows its queries attend (its rows after them are
     *                      padding, left out exactly: their e^x would be 0); from 1 to its length
     * @param attentionMask {@code [tokens]}: 1 for a key attended, 0 for one masked among a sequence's first
     *                      {@code keys} rows; or null when none is
     * @param out           {@code [tokens, heads * headSize]} F32, written
     * @param probsOrNull   per sequence s and head h, the {@code [len_s, len_s]} attention probabilities, one
     *                      after the other in that order ({@code [batch, heads, seqLen, seqLen]} for a padded
     *                      batch); or null
     */
    public static void forward(ThreadPool pool, MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        long[] probsStarts = Checks.attention(qkv, starts, keys, heads, headSize, attentionMask, out, probsOrNull);
        if (pool == null) {
            throw new IllegalArgumentException("pool must not be null");
        }
        if (pool.threads() > 1) {
            pool.requireAccessible("qkv", qkv);
            pool.requireAccessible("out", out);
            if (probsOrNull != null) {
                pool.requireAccessible("probsOrNull", probsOrNull);
            }
        }
        int count = starts.length - 1;
        int groups = headGroups(count, heads, pool.threads());
        int perGroup = heads / groups;
        pool.parallelFor(count * groups, task -> {
            int s = task / groups, h0 = task % groups * perGroup;
            heads(qkv, starts[s], starts[s + 1] - starts[s], keys[s], h0, h0 + perGroup, heads, headSize,
                    attentionMask, out, probsOrNull, probsStarts[s]);
        });
    }

    /**
     * Into how many groups each sequence's heads are split, one task per (sequence, group): as few as give the
     * pool at least two tasks per thread. A task reads its heads' columns of each row in one run, so that a
     * sequence's rows are read once, in order, rather than once per head at a stride of 3 x hidden floats
     * (one head's reads missed the caches row after row: half of attention's time at 128 tokens).
     */
    static int headGroups(int sequences, int heads, int threads) {
        if (threads == 1) {
            return 1;
        }
        int groups = 1;
        long wanted = (long) Tuning.ATTENTION_TASKS_PER_THREAD * threads;
        while (groups < heads && ((long) sequences * groups < wanted || heads % groups != 0)) {
            groups++;
        }
        return groups;
    }

    /**
     * Heads {@code h0} to {@code h1} of the sequence of {@code seqLen} rows from row {@code first}, attending its
     * first {@code keys} rows; its probabilities, if asked for, start at float {@code probsFirst} of probs.
     */
    private static void heads(MemorySegment qkv, int first, int seqLen, int keys, int h0, int h1, int heads, int d,
            int[] mask, MemorySegment out, MemorySegment probs, long probsFirst) {
        int hidden = heads * d;
        int width = (h1 - h0) * d;
        long qkvStride = 3L * hidden;
        Scratch s = SCRATCH.get();
        s.ensure(seqLen, d, width);
        // The group's Q, K and V columns, row by row: Q at staged[i * width ..] with whole tiles of rows (the
        // rows after the last zero), K and V after it. Then per head: Q read in place, K^T in panels of PANEL_WIDTH
        // keys (keyPanels[panel][c][key % PANEL_WIDTH], the last panel's missing keys zero), V in panels of PANEL_WIDTH
        // columns (valuePanels[panel][j][c % PANEL_WIDTH]).
        float[] staged = s.staged;
        int tiledRows = (seqLen + TILE_ROWS - 1) / TILE_ROWS * TILE_ROWS;
        int keysAt = tiledRows * width, valuesAt = keysAt + seqLen * width;
        for (int i = 0; i < seqLen; i++) {
            long row = 4 * ((first + i) * qkvStride + (long) h0 * d);
            MemorySegment.copy(qkv, FLOAT, row, staged, i * width, width);
            MemorySegment.copy(qkv, FLOAT, row + 4L * hidden, staged, keysAt + i * width, width);
            MemorySegment.copy(qkv, FLOAT, row + 8L * hidden, staged, valuesAt + i * width, width);
        }
        Arrays.fill(staged, seqLen * width, tiledRows * width, 0f);
        for (int h = h0; h < h1; h++) {
            head(s, (h - h0) * d, width, keysAt, valuesAt, first, seqLen, keys, h, heads, d, mask, out, probs,
                    probsFirst + (long) h * seqLen * seqLen);
        }
    }

    /** One head, from the group's staged columns at {@code column} (see {@link #heads}). */
    private static void head(Scratch s, int column, int width, int keysAt, int valuesAt, int first, int seqLen,
            int keys, int h, int heads, int d, int[] mask, MemorySegment out, MemorySegment probs,
            long probsFirst) {
        int hidden = heads * d;
        float[] staged = s.staged;
        float[] keyPanels = s.keyPanels;
        float[] valuePanels = s.valuePanels;
        float[] scores = s.scores;
        int keyPanelCount = (seqLen + PANEL_WIDTH - 1) / PANEL_WIDTH;
        Arrays.fill(keyPanels, (keyPanelCount - 1) * PANEL_WIDTH * d, keyPanelCount * PANEL_WIDTH * d, 0f);
        for (int j = 0; j < seqLen; j++) {
            int key = keysAt + j * width + column;
            for (int c = 0, at = j / PANEL_WIDTH * PANEL_WIDTH * d + j % PANEL_WIDTH; c < d; c++, at += PANEL_WIDTH) {
                keyPanels[at] = staged[key + c];
            }
        }
        for (int j = 0; j < seqLen; j++) {
            int value = valuesAt + j * width + column;
            for (int c0 = 0; c0 < d; c0 += PANEL_WIDTH) {
                System.arraycopy(staged, value + c0, valuePanels, c0 * seqLen + j * PANEL_WIDTH, Math.min(PANEL_WIDTH, d - c0));
            }
        }
        float[] maskRow = null;
        if (mask != null) {
            maskRow = s.mask;
            for (int j = 0; j < seqLen; j++) {
                maskRow[j] = mask[first + j] != 0 ? 0f : -Float.MAX_VALUE;
            }
            if (allZero(maskRow, keys)) {
                maskRow = null; // nothing masked (adding 0 changes no score): the softmax skips the mask
            }
        }

        float scale = (float) (1 / Math.sqrt(d));
        int scoreStride = keyPanelCount * PANEL_WIDTH;
        long outStride = 4L * hidden;
        long outFirst = 4L * ((long) first * hidden + (long) h * d);
        for (int i = 0; i < seqLen; i += TILE_ROWS) {
            int rows = Math.min(TILE_ROWS, seqLen - i);
            for (int p = 0; p < (keys + PANEL_WIDTH - 1) / PANEL_WIDTH; p++) {
                tile(rows, keys - p * PANEL_WIDTH, staged, i * width + column, width, keyPanels, p * PANEL_WIDTH * d, d,
                        scale, scores, p * PANEL_WIDTH, scoreStride);
            }
            // Softmax without its division: the output rows are divided by the sums instead (d values per
            // row rather than seqLen).
            float[] inverseSums = s.inverseSums;
            for (int r = 0; r < rows; r++) {
                inverseSums[r] = 1f / Softmax.exponentials(scores, r * scoreStride, keys, maskRow, 0, 1f, s.lanes);
                if (probs != null) {
                    float[] row = s.probabilities;
                    System.arraycopy(scores, r * scoreStride, row, 0, keys);
                    Softmax.scale(row, 0, keys, inverseSums[r]);
                    Arrays.fill(row, keys, seqLen, 0f);
                    MemorySegment.copy(row, 0, probs, FLOAT, 4 * (probsFirst + (long) (i + r) * seqLen), seqLen);
                }
            }
            for (int c0 = 0; c0 < d; c0 += PANEL_WIDTH) {
                outputTile(rows, scores, scoreStride, valuePanels, c0 * seqLen, keys, inverseSums, s.tileOut, out,
                        outFirst + i * outStride + 4L * c0, outStride, Math.min(PANEL_WIDTH, d - c0));
            }
        }
    }

    /**
     * The attention's micro-kernel, for both products: {@code out[r][c] = scale * sum_(k < kLen) x[r][k] w[k][c]}
     * (the scores' 1/sqrt(d) applied here, as PyTorch does after the product, the output's scale 1) for the
     * TILE_ROWS rows of x at {@code x[xBase + r * xStride + k]} and the PANEL_WIDTH columns of one panel
     * ({@code [kLen][PANEL_WIDTH]} at {@code w[wBase ..]}), stored at {@code out[outBase + r * outStride ..]}. Scores:
     * x = Q, w = a K^T panel, k over the head's d. Output: x = the tile's exponentials, w = a V panel, k over the keys.
     * The Linear's {@link GemmKernel} has the same shape but reads other memory (see there why it is not shared).
     */
    private static void tile(int rows, int cols, float[] x, int xBase, int xStride, float[] w, int wBase, int kLen,
            float scale, float[] out, int outBase, int outStride) {
        // Short sequences have few queries and keys, and most of a full tile would be padding: the last tile of
        // up to 4 queries takes the 4-row tile, the last panel of up to LANES keys one vector per row. Both
        // compute each output with the same FMA chain, so the bits do not depend on the choice.
        if (TILE_ROWS == 8 && rows > 4) {
            if (cols <= LANES) {
                tile8Narrow(x, xBase, xStride, w, wBase, kLen, scale, out, outBase, outStride);
            } else {
                tile8(x, xBase, xStride, w, wBase, kLen, scale, out, outBase, outStride);
            }
        } else {
            tile4(x, xBase, xStride, w, wBase, kLen, scale, out, outBase, outStride);
        }
    }

    private static void tile8(float[] x, int xBase, int xStride, float[] w, int wBase, int kLen, float scale,
            float[] out, int outBase, int outStride) {
        FloatVector c00 = FloatVector.zero(FLOATS);
        FloatVector c01 = FloatVector.zero(FLOATS);
        FloatVector c10 = FloatVector.zero(FLOATS);
        FloatVector c11 = FloatVector.zero(FLOATS);
        FloatVector c20 = FloatVector.zero(FLOATS);
        FloatVector c21 = FloatVector.zero(FLOATS);
        FloatVector c30 = FloatVector.zero(FLOATS);
        FloatVector c31 = FloatVector.zero(FLOATS);
        FloatVector c40 = FloatVector.zero(FLOATS);
        FloatVector c41 = FloatVector.zero(FLOATS);
        FloatVector c50 = FloatVector.zero(FLOATS);
        FloatVector c51 = FloatVector.zero(FLOATS);
        FloatVector c60 = FloatVector.zero(FLOATS);
        FloatVector c61 = FloatVector.zero(FLOATS);
        FloatVector c70 = FloatVector.zero(FLOATS);
        FloatVector c71 = FloatVector.zero(FLOATS);
        int x0 = xBase + 0 * xStride;
        int x1 = xBase + 1 * xStride;
        int x2 = xBase + 2 * xStride;
        int x3 = xBase + 3 * xStride;
        int x4 = xBase + 4 * xStride;
        int x5 = xBase + 5 * xStride;
        int x6 = xBase + 6 * xStride;
        int x7 = xBase + 7 * xStride;
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * PANEL_WIDTH;
            FloatVector w0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector w1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            FloatVector a = FloatVector.broadcast(FLOATS, x[x0 + k]);
            c00 = a.fma(w0, c00);
            c01 = a.fma(w1, c01);
            a = FloatVector.broadcast(FLOATS, x[x1 + k]);
            c10 = a.fma(w0, c10);
            c11 = a.fma(w1, c11);
            a = FloatVector.broadcast(FLOATS, x[x2 + k]);
            c20 = a.fma(w0, c20);
            c21 = a.fma(w1, c21);
            a = FloatVector.broadcast(FLOATS, x[x3 + k]);
            c30 = a.fma(w0, c30);
            c31 = a.fma(w1, c31);
            a = FloatVector.broadcast(FLOATS, x[x4 + k]);
            c40 = a.fma(w0, c40);
            c41 = a.fma(w1, c41);
            a = FloatVector.broadcast(FLOATS, x[x5 + k]);
            c50 = a.fma(w0, c50);
            c51 = a.fma(w1, c51);
            a = FloatVector.broadcast(FLOATS, x[x6 + k]);
            c60 = a.fma(w0, c60);
            c61 = a.fma(w1, c61);
            a = FloatVector.broadcast(FLOATS, x[x7 + k]);
            c70 = a.fma(w0, c70);
            c71 = a.fma(w1, c71);
        }
        c00.mul(scale).intoArray(out, outBase + 0 * outStride);
        c01.mul(scale).intoArray(out, outBase + 0 * outStride + LANES);
        c10.mul(scale).intoArray(out, outBase + 1 * outStride);
        c11.mul(scale).intoArray(out, outBase + 1 * outStride + LANES);
        c20.mul(scale).intoArray(out, outBase + 2 * outStride);
        c21.mul(scale).intoArray(out, outBase + 2 * outStride + LANES);
        c30.mul(scale).intoArray(out, outBase + 3 * outStride);
        c31.mul(scale).intoArray(out, outBase + 3 * outStride + LANES);
        c40.mul(scale).intoArray(out, outBase + 4 * outStride);
        c41.mul(scale).intoArray(out, outBase + 4 * outStride + LANES);
        c50.mul(scale).intoArray(out, outBase + 5 * outStride);
        c51.mul(scale).intoArray(out, outBase + 5 * outStride + LANES);
        c60.mul(scale).intoArray(out, outBase + 6 * outStride);
        c61.mul(scale).intoArray(out, outBase + 6 * outStride + LANES);
        c70.mul(scale).intoArray(out, outBase + 7 * outStride);
        c71.mul(scale).intoArray(out, outBase + 7 * outStride + LANES);
    }

    /** {@link #tile8} on the first vector of the panel's columns only. */
    private static void tile8Narrow(float[] x, int xBase, int xStride, float[] w, int wBase, int kLen, float scale,
            float[] out, int outBase, int outStride) {
        FloatVector c0 = FloatVector.zero(FLOATS);
        FloatVector c1 = FloatVector.zero(FLOATS);
        FloatVector c2 = FloatVector.zero(FLOATS);
        FloatVector c3 = FloatVector.zero(FLOATS);
        FloatVector c4 = FloatVector.zero(FLOATS);
        FloatVector c5 = FloatVector.zero(FLOATS);
        FloatVector c6 = FloatVector.zero(FLOATS);
        FloatVector c7 = FloatVector.zero(FLOATS);
        int x0 = xBase + 0 * xStride;
        int x1 = xBase + 1 * xStride;
        int x2 = xBase + 2 * xStride;
        int x3 = xBase + 3 * xStride;
        int x4 = xBase + 4 * xStride;
        int x5 = xBase + 5 * xStride;
        int x6 = xBase + 6 * xStride;
        int x7 = xBase + 7 * xStride;
        for (int k = 0; k < kLen; k++) {
            FloatVector w0 = FloatVector.fromArray(FLOATS, w, wBase + k * PANEL_WIDTH);
            c0 = FloatVector.broadcast(FLOATS, x[x0 + k]).fma(w0, c0);
            c1 = FloatVector.broadcast(FLOATS, x[x1 + k]).fma(w0, c1);
            c2 = FloatVector.broadcast(FLOATS, x[x2 + k]).fma(w0, c2);
            c3 = FloatVector.broadcast(FLOATS, x[x3 + k]).fma(w0, c3);
            c4 = FloatVector.broadcast(FLOATS, x[x4 + k]).fma(w0, c4);
            c5 = FloatVector.broadcast(FLOATS, x[x5 + k]).fma(w0, c5);
            c6 = FloatVector.broadcast(FLOATS, x[x6 + k]).fma(w0, c6);
            c7 = FloatVector.broadcast(FLOATS, x[x7 + k]).fma(w0, c7);
        }
        c0.mul(scale).intoArray(out, outBase + 0 * outStride);
        c1.mul(scale).intoArray(out, outBase + 1 * outStride);
        c2.mul(scale).intoArray(out, outBase + 2 * outStride);
        c3.mul(scale).intoArray(out, outBase + 3 * outStride);
        c4.mul(scale).intoArray(out, outBase + 4 * outStride);
        c5.mul(scale).intoArray(out, outBase + 5 * outStride);
        c6.mul(scale).intoArray(out, outBase + 6 * outStride);
        c7.mul(scale).intoArray(out, outBase + 7 * outStride);
    }

    private static void tile4(float[] x, int xBase, int xStride, float[] w, int wBase, int kLen, float scale,
            float[] out, int outBase, int outStride) {
        FloatVector c00 = FloatVector.zero(FLOATS);
        FloatVector c01 = FloatVector.zero(FLOATS);
        FloatVector c10 = FloatVector.zero(FLOATS);
        FloatVector c11 = FloatVector.zero(FLOATS);
        FloatVector c20 = FloatVector.zero(FLOATS);
        FloatVector c21 = FloatVector.zero(FLOATS);
        FloatVector c30 = FloatVector.zero(FLOATS);
        FloatVector c31 = FloatVector.zero(FLOATS);
        int x0 = xBase + 0 * xStride;
        int x1 = xBase + 1 * xStride;
        int x2 = xBase + 2 * xStride;
        int x3 = xBase + 3 * xStride;
        for (int k = 0; k < kLen; k++) {
            int wk = wBase + k * PANEL_WIDTH;
            FloatVector w0 = FloatVector.fromArray(FLOATS, w, wk);
            FloatVector w1 = FloatVector.fromArray(FLOATS, w, wk + LANES);
            FloatVector a = FloatVector.broadcast(FLOATS, x[x0 + k]);
            c00 = a.fma(w0, c00);
            c01 = a.fma(w1, c01);
            a = FloatVector.broadcast(FLOATS, x[x1 + k]);
            c10 = a.fma(w0, c10);
            c11 = a.fma(w1, c11);
            a = FloatVector.broadcast(FLOATS, x[x2 + k]);
            c20 = a.fma(w0, c20);
            c21 = a.fma(w1, c21);
            a = FloatVector.broadcast(FLOATS, x[x3 + k]);
            c30 = a.fma(w0, c30);
            c31 = a.fma(w1, c31);
        }
        c00.mul(scale).intoArray(out, outBase + 0 * outStride);
        c01.mul(scale).intoArray(out, outBase + 0 * outStride + LANES);
        c10.mul(scale).intoArray(out, outBase + 1 * outStride);
        c11.mul(scale).intoArray(out, outBase + 1 * outStride + LANES);
        c20.mul(scale).intoArray(out, outBase + 2 * outStride);
        c21.mul(scale).intoArray(out, outBase + 2 * outStride + LANES);
        c30.mul(scale).intoArray(out, outBase + 3 * outStride);
        c31.mul(scale).intoArray(out, outBase + 3 * outStride + LANES);
    }

    /**
     * Keys up to the last one not masked, of the sequence of {@code seqLen} mask values from {@code first}; all of
     * them when every key is masked (attention is then uniform, as in PyTorch). The keys after it would have
     * e^x = 0 exactly, so leaving them out changes no bit: a sequence computes the same alone or padded in a
     * batch (the softmax's vector and scalar parts split its keys the same way), and its padding costs no
     * products.
     */
    private static int keysBeforePadding(int[] mask, int first, int seqLen) {
        int keys = seqLen;
        while (keys > 0 && mask[first + keys - 1] == 0) {
            keys--;
        }
        return keys == 0 ? seqLen : keys;
    }

    private static boolean allZero(float[] values, int count) {
        for (int i = 0; i < count; i++) {
            if (values[i] != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code out[r][c] = scale[r] sum_(j < keys) p[r][j] v_j[c]} for the first {@code rows} of the TILE_ROWS rows
     * of {@code p} ({@code p[r * pStride + j]}) and the {@code cols} columns of one V panel ({@code [seqLen][PANEL_WIDTH]}
     * at {@code v[vBase ..]}), stored at byte offset {@code outOff} of {@code out}, rows {@code outStride} bytes
     * apart. Rows beyond {@code rows} are computed from whatever the scratch holds and not stored.
     */
    private static void outputTile(int rows, float[] p, int pStride, float[] v, int vBase, int keys, float[] scale,
            float[] tileOut, MemorySegment out, long outOff, long outStride, int cols) {
        tile(rows, cols, p, 0, pStride, v, vBase, keys, 1f, tileOut, 0, PANEL_WIDTH);
        for (int r = 0; r < rows; r++) {
            // Scaled in the heap tile and bulk-copied out: no vector is passed to a helper method, which C2
            // does not always inline (a vector crossing a call is boxed: attention ran 3x slower in a model).
            int at = r * PANEL_WIDTH;
            FloatVector.fromArray(FLOATS, tileOut, at).mul(scale[r]).intoArray(tileOut, at);
            FloatVector.fromArray(FLOATS, tileOut, at + LANES).mul(scale[r]).intoArray(tileOut, at + LANES);
            MemorySegment.copy(tileOut, at, out, FLOAT, outOff + r * outStride, cols);
        }
    }
}
