package bertj.kernels.reference;

import bertj.kernels.Activation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The reference kernels: every op of a BERT forward pass written as plainly as it can be, one loop nest per
 * op, in plain Java (no Vector API, no threads, no blocking or packing). They define what the SIMD kernels in
 * {@code bertj.kernels} compute, and the tests hold those to these on odd sizes and tails. Read them first;
 * read the fast ones next to them ({@code Linear}, {@code Attention}, {@code Softmax}, {@code Norms},
 * {@code Activations}).
 *
 * <p>Conventions as the SIMD kernels': tensors are F32 {@link MemorySegment}s, row-major and contiguous, shapes
 * passed as arguments and checked ({@link Checks}). Sums and element-wise functions are computed in double and
 * rounded once to float, where PyTorch rounds an intermediate to float the comment says so. The engine runs
 * these in {@code KernelMode.SCALAR}, for checking results, not for speed.
 */
public final class ReferenceKernels {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private ReferenceKernels() {}

    // ---- Linear ----

    /**
     * The Linear layer, {@code y = act(x . W^T + b)} on the original Hugging Face weights: each output is a dot
     * product accumulated in double over k in order, plus the bias, through the activation in double, rounded
     * once to float.
     *
     * @param x      {@code [m, k]} F32
     * @param weight {@code [n, k]} F32 (out, in), as Hugging Face stores it
     * @param bias   {@code [n]} F32, or null
     * @param y      {@code [m, n]} F32, written
     */
    public static void linear(MemorySegment x, int m, MemorySegment weight, MemorySegment bias, int n, int k,
            MemorySegment y, Activation act) {
        if (n <= 0 || k <= 0) {
            throw new IllegalArgumentException("n and k must be positive, got n = " + n + ", k = " + k);
        }
        Checks.matrix("x", x, m, k);
        Checks.matrix("weight", weight, n, k);
        Checks.matrix("y", y, m, n);
        if (bias != null) {
            Checks.length("bias", bias, n);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = bias == null ? 0 : bias.getAtIndex(FLOAT, j);
                for (int kk = 0; kk < k; kk++) {
                    sum += (double) x.getAtIndex(FLOAT, (long) i * k + kk)
                            * weight.getAtIndex(FLOAT, (long) j * k + kk);
                }
                y.setAtIndex(FLOAT, (long) i * n + j, (float) ScalarMath.apply(act, sum));
            }
        }
    }

    // ---- attention ----

    /**
     * Attention over a padded batch of {@code batch} sequences of {@code seqLen} rows: every key of a sequence,
     * the padded ones through the mask (see the packed form below for the computation).
     *
     * @param qkv          {@code [batch * seqLen, 3 * heads * headSize]} F32, each row {@code [Q | K | V]}
     * @param attentionMask {@code [batch, seqLen]}: 1 for a key attended, 0 for one masked (padding), or null
     * @param out          {@code [batch * seqLen, heads * headSize]} F32, written
     * @param probsOrNull  {@code [batch, heads, seqLen, seqLen]} F32, written with the probabilities, or null
     */
    public static void attention(MemorySegment qkv, int batch, int seqLen, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        Checks.attention(qkv, batch, seqLen, heads, headSize, attentionMask, out, probsOrNull);
        if (seqLen == 0) {
            return;
        }
        int[] starts = new int[batch + 1];
        int[] keys = new int[batch];
        for (int b = 0; b < batch; b++) {
            starts[b + 1] = (b + 1) * seqLen;
            keys[b] = seqLen;
        }
        attention(qkv, starts, keys, heads, headSize, attentionMask, out, probsOrNull);
    }

    /**
     * Multi-head self-attention, as Hugging Face's {@code BertSelfAttention} (no dropout): per sequence s and
     * head h, {@code out_h = softmax(Q_h K_h^T / sqrt(d) + mask) V_h}. Scores {@code (float) (q . k) * scale + mask}
     * formed in float as PyTorch does, the mask being PyTorch's extended one: 0 for a key attended, float32's
     * minimum for one masked; the softmax and both products accumulated in double.
     *
     * @param qkv          {@code [tokens, 3 * heads * headSize]} F32, each row {@code [Q | K | V]}, head h owning
     *                     columns {@code h*d .. (h+1)*d} of each part; sequence s owns rows {@code starts[s]} to
     *                     {@code starts[s + 1]}
     * @param starts       {@code [count + 1]}: the first row of each sequence, then the number of rows; starts[0] = 0
     * @param keys         {@code [count]}: how many of its first rows each sequence's queries attend (1 to its
     *                     length; the rows after are padding, left out)
     * @param attentionMask {@code [tokens]}: 1 for a key attended, 0 for one masked, or null for none
     * @param out          {@code [tokens, heads * headSize]} F32, written
     * @param probsOrNull  per sequence s and head h, the {@code [len_s, len_s]} probabilities one after the other
     *                     (zero for keys left out); or null
     */
    public static void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        long[] probsStarts = Checks.attention(qkv, starts, keys, heads, headSize, attentionMask, out, probsOrNull);
        int hidden = heads * headSize;
        long stride = 3L * hidden;
        float scale = (float) (1 / Math.sqrt(headSize));
        for (int s = 0; s < starts.length - 1; s++) {
            int first = starts[s], seqLen = starts[s + 1] - first, attended = keys[s];
            float[] scores = new float[attended]; // [attended]: one query's scores
            double[] p = new double[attended];    // [attended]: its probabilities
            for (int h = 0; h < heads; h++) {
                long q0 = first * stride + (long) h * headSize; // Q of row 0, head h
                long k0 = q0 + hidden;
                long v0 = q0 + 2L * hidden;
                long probs0 = probsStarts[s] + (long) h * seqLen * seqLen;
                for (int i = 0; i < seqLen; i++) {
                    // scores[j] = q_i . k_j / sqrt(d) + mask[j]
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < attended; j++) {
                        double dot = 0;
                        for (int c = 0; c < headSize; c++) {
                            dot += (double) qkv.getAtIndex(FLOAT, q0 + i * stride + c)
                                    * qkv.getAtIndex(FLOAT, k0 + j * stride + c);
                        }
                        float score = (float) dot * scale;
                        if (attentionMask != null) {
                            score += attentionMask[first + j] != 0 ? 0f : -Float.MAX_VALUE;
                        }
                        scores[j] = score;
                        max = Math.max(max, score);
                    }
                    // p = softmax(scores)
                    double sum = 0;
                    for (int j = 0; j < attended; j++) {
                        p[j] = Math.exp((double) scores[j] - max);
                        sum += p[j];
                    }
                    for (int j = 0; j < seqLen; j++) {
                        if (j < attended) {
                            p[j] /= sum;
                        }
                        if (probsOrNull != null) {
                            probsOrNull.setAtIndex(FLOAT, probs0 + (long) i * seqLen + j, j < attended ? (float) p[j] : 0f);
                        }
                    }
                    // out_i = sum_j p[j] v_j
                    for (int c = 0; c < headSize; c++) {
                        double acc = 0;
                        for (int j = 0; j < attended; j++) {
                            acc += p[j] * qkv.getAtIndex(FLOAT, v0 + j * stride + c);
                        }
                        out.setAtIndex(FLOAT, ((long) first + i) * hidden + (long) h * headSize + c, (float) acc);
                    }
                }
            }
        }
    }

    // ---- softmax ----

    /**
     * In place: {@code x[r, :] = softmax(x[r, :] + mask)}, as {@code torch.softmax(x + mask, dim=-1)}: the inputs
     * formed in float, the exponentials and their sum in double. A row masked everywhere with float32's minimum
     * becomes uniform, a row of -inf NaN, NaN anywhere makes the row NaN, as in PyTorch.
     *
     * @param x    {@code [rows, cols]} F32
     * @param mask {@code [cols]} F32 added to every row, or null
     */
    public static void softmax(MemorySegment x, int rows, int cols, MemorySegment mask) {
        Checks.softmax(x, rows, cols, mask);
        for (int r = 0; r < rows; r++) {
            long xOff = 4L * r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                float v = x.get(FLOAT, xOff + 4L * c);
                if (mask != null) {
                    v += mask.get(FLOAT, 4L * c);
                }
                x.set(FLOAT, xOff + 4L * c, v);
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp((double) x.get(FLOAT, xOff + 4L * c) - max);
            }
            for (int c = 0; c < cols; c++) {
                x.set(FLOAT, xOff + 4L * c, (float) (Math.exp((double) x.get(FLOAT, xOff + 4L * c) - max) / sum));
            }
        }
    }

    // ---- LayerNorm ----

    /** {@code out[r, :] = LN(x[r, :])}: {@link #addLayerNorm} without a residual. */
    public static void layerNorm(MemorySegment x, int rows, int cols, MemorySegment gamma, MemorySegment beta,
            float eps, MemorySegment out) {
        addLayerNorm(x, null, rows, cols, gamma, beta, eps, out);
    }

    /**
     * {@code out[r, :] = LN(x[r, :] + residual[r, :])}, as {@code torch.nn.LayerNorm} after BERT's residual add
     * (post-LN): {@code mean}, then the biased {@code var = mean((v - mean)^2)}, then
     * {@code (v - mean) / sqrt(var + eps) * gamma + beta}. The sum {@code x + residual} is formed in float (as
     * PyTorch stores it), the statistics in double.
     *
     * @param x        {@code [rows, cols]} F32
     * @param residual {@code [rows, cols]}, or null for a plain LayerNorm
     * @param gamma    {@code [cols]}
     * @param beta     {@code [cols]}
     * @param out      {@code [rows, cols]}, may be x or residual itself
     */
    public static void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols,
            MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        Checks.layerNorm(x, residual, rows, cols, gamma, beta, out);
        for (int r = 0; r < rows; r++) {
            long off = 4L * r * cols;
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                long at = off + 4L * c;
                float v = x.get(FLOAT, at) + (residual == null ? 0f : residual.get(FLOAT, at));
                out.set(FLOAT, at, v);
                sum += v;
            }
            double mean = sum / cols;
            double squares = 0;
            for (int c = 0; c < cols; c++) {
                double d = out.get(FLOAT, off + 4L * c) - mean;
                squares += d * d;
            }
            double inverseStd = 1 / Math.sqrt(squares / cols + eps);
            for (int c = 0; c < cols; c++) {
                long at = off + 4L * c;
                double normalised = (out.get(FLOAT, at) - mean) * inverseStd;
                out.set(FLOAT, at, (float) (normalised * gamma.get(FLOAT, 4L * c) + beta.get(FLOAT, 4L * c)));
            }
        }
    }

    // ---- element-wise, in place ----

    /** {@code x[i] = act(x[i])} for {@code i < n}, in double ({@link ScalarMath#apply}), rounded once. */
    public static void activation(Activation act, MemorySegment x, long n) {
        Checks.length("x", x, n);
        for (long i = 0; i < n; i++) {
            x.set(FLOAT, 4 * i, (float) ScalarMath.apply(act, x.get(FLOAT, 4 * i)));
        }
    }

    /** {@code x[i] = x[i]/2 (1 + erf(x[i]/sqrt 2))} for x {@code [n]}. */
    public static void geluErf(MemorySegment x, long n) {
        activation(Activation.GELU_ERF, x, n);
    }

    /** {@code x[i] = x[i]/2 (1 + tanh(sqrt(2/pi) (x[i] + 0.044715 x[i]^3)))} for x {@code [n]}. */
    public static void geluTanh(MemorySegment x, long n) {
        activation(Activation.GELU_TANH, x, n);
    }

    /** {@code x[i] = max(x[i], 0)} for x {@code [n]} (NaN stays NaN). */
    public static void relu(MemorySegment x, long n) {
        activation(Activation.RELU, x, n);
    }

    /** {@code x[i] = tanh(x[i])} for x {@code [n]}. */
    public static void tanh(MemorySegment x, long n) {
        activation(Activation.TANH, x, n);
    }

    /** {@code x[r, c] += bias[c]} for x {@code [rows, cols]}, bias {@code [cols]}, in float. */
    public static void addBias(MemorySegment x, int rows, int cols, MemorySegment bias) {
        Checks.matrix("x", x, rows, cols);
        Checks.length("bias", bias, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long at = 4L * ((long) r * cols + c);
                x.set(FLOAT, at, x.get(FLOAT, at) + bias.get(FLOAT, 4L * c));
            }
        }
    }
}
