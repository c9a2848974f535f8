package bertj.kernels;

import static bertj.kernels.VectorMath.EXP_C2;
import static bertj.kernels.VectorMath.EXP_C3;
import static bertj.kernels.VectorMath.EXP_C4;
import static bertj.kernels.VectorMath.EXP_C5;
import static bertj.kernels.VectorMath.EXP_C6;
import static bertj.kernels.VectorMath.EXP_MAX_ARG;
import static bertj.kernels.VectorMath.EXP_MIN_ARG;
import static bertj.kernels.VectorMath.LN2_HI;
import static bertj.kernels.VectorMath.LN2_LO;
import static bertj.kernels.VectorMath.LOG2E;
import static bertj.kernels.VectorMath.ROUNDING_MAGIC;
import static bertj.kernels.VectorMath.ROUNDING_MAGIC_BITS;

import bertj.kernels.reference.Checks;
import bertj.kernels.reference.ScalarMath;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The SIMD kernels ({@link Linear}, {@link Attention}, {@link Norms#addLayerNorm}) computed one float at a time:
 * every float of the result goes through the same operations in the same order as in its SIMD lane (the same
 * FMA chains, the same polynomials, sums kept per lane and added in lane order), so the results are the same
 * bits. No Vector API: until C2 has compiled them, Vector API calls are objects on the heap and run about a
 * hundred times slower than this plain arithmetic, which the interpreter and C1 run well. So a JVM's first
 * small forwards, a one-shot command's only one, take these instead of waiting for the JIT.
 *
 * <p>They read the same packed weights as the SIMD Linear. Work is split over the pool like the SIMD kernels'
 * (panels of the Linear, (sequence, head) pairs of attention, rows of the layer norm); the split changes no bit.
 */
public final class SimdTwins {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int LANES = VectorSupport.floatLanes();
    private static final int WIDTH = Tuning.PANEL_WIDTH;

    private SimdTwins() {}

    // ---- Linear ----

    /** {@link Linear#forward}'s twin: the same arguments, the same bits. */
    public static void linear(ThreadPool pool, MemorySegment x, int m, PackedLinear w, MemorySegment y, Activation act) {
        int n = w.n(), k = w.k();
        Checks.matrix("x", x, m, k);
        Checks.matrix("y", y, m, n);
        if (m == 0) {
            return;
        }
        pool.parallelFor(w.panels(), p -> linearPanel(x, m, w, y, act, p));
    }

    /** Columns {@code p * WIDTH ..} of every row: y[r][c] = the FMA chain over k of x[r][k] w[c][k], from the bias. */
    private static void linearPanel(MemorySegment x, int m, PackedLinear w, MemorySegment y, Activation act, int p) {
        int n = w.n(), k = w.k(), c0 = p * WIDTH, cols = Math.min(WIDTH, n - c0);
        float[] acc = new float[m * WIDTH];
        for (int r = 0; r < m; r++) {
            System.arraycopy(w.bias(), c0, acc, r * WIDTH, WIDTH);
        }
        float[] xRow = new float[Math.min(k, Tuning.K_BLOCK)];
        float[] slice = new float[Math.min(k, Tuning.K_BLOCK) * WIDTH];
        for (int k0 = 0; k0 < k; k0 += Tuning.K_BLOCK) {
            int kLen = Math.min(Tuning.K_BLOCK, k - k0);
            w.sliceAsFloats(k0, p, slice); // [kLen][WIDTH], widened to float32 as the SIMD Linear does
            for (int r = 0; r < m; r++) {
                MemorySegment.copy(x, FLOAT, 4L * ((long) r * k + k0), xRow, 0, kLen);
                for (int j = r * WIDTH; j < (r + 1) * WIDTH; j += 8) {
                    fma8(xRow, kLen, slice, j - r * WIDTH, acc, j);
                }
            }
        }
        // The SIMD Linear applies the activation to whole vectors, and its last n % LANES columns through the
        // double function: those columns are the row's last ones, whatever the split.
        int tailFrom = n - n % LANES;
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < cols; j++) {
                acc[r * WIDTH + j] = activate(act, acc[r * WIDTH + j], c0 + j >= tailFrom);
            }
            MemorySegment.copy(acc, r * WIDTH, y, FLOAT, 4L * ((long) r * n + c0), cols);
        }
    }

    /**
     * acc[a .. a + 8) = the FMA chains over k of x[k] w[k][j .. j + 8), w a [kLen][WIDTH] slice: eight chains
     * in locals, which C1 keeps in registers (an accumulator array read and written per product ran three
     * times slower before C2, and the twins run where there is no C2).
     */
    private static void fma8(float[] x, int kLen, float[] w, int j, float[] acc, int a) {
        float a0 = acc[a], a1 = acc[a + 1], a2 = acc[a + 2], a3 = acc[a + 3];
        float a4 = acc[a + 4], a5 = acc[a + 5], a6 = acc[a + 6], a7 = acc[a + 7];
        for (int kk = 0, s = j; kk < kLen; kk++, s += WIDTH) {
            float xv = x[kk];
            a0 = Math.fma(xv, w[s], a0);
            a1 = Math.fma(xv, w[s + 1], a1);
            a2 = Math.fma(xv, w[s + 2], a2);
            a3 = Math.fma(xv, w[s + 3], a3);
            a4 = Math.fma(xv, w[s + 4], a4);
            a5 = Math.fma(xv, w[s + 5], a5);
            a6 = Math.fma(xv, w[s + 6], a6);
            a7 = Math.fma(xv, w[s + 7], a7);
        }
        acc[a] = a0;
        acc[a + 1] = a1;
        acc[a + 2] = a2;
        acc[a + 3] = a3;
        acc[a + 4] = a4;
        acc[a + 5] = a5;
        acc[a + 6] = a6;
        acc[a + 7] = a7;
    }

    private static float activate(Activation act, float v, boolean tail) {
        if (tail) {
            return act == Activation.NONE ? v : (float) ScalarMath.apply(act, v);
        }
        return switch (act) {
            case NONE -> v;
            case GELU_ERF -> geluErf(v);
            case GELU_TANH -> geluTanh(v);
            case RELU -> v < 0f ? 0f : v;
            case TANH -> tanh(v);
        };
    }

    /** One lane of VectorMath.geluErf. */
    static float geluErf(float v) {
        float z = v * VectorMath.SQRT1_2;
        float a = Math.abs(z);
        float halfX = v * 0.5f;
        if (a <= 1f) {
            float square = z * z;
            float poly = Math.fma(square, VectorMath.ERF_P6, VectorMath.ERF_P5);
            poly = Math.fma(poly, square, VectorMath.ERF_P4);
            poly = Math.fma(poly, square, VectorMath.ERF_P3);
            poly = Math.fma(poly, square, VectorMath.ERF_P2);
            poly = Math.fma(poly, square, VectorMath.ERF_P1);
            poly = Math.fma(poly, square, VectorMath.ERF_P0);
            float erf = z * poly;
            return Math.fma(halfX, erf, halfX);
        }
        float t = erfcT(a);
        float q = t * expEstrin(Math.fma(v * -0.5f, v, erfcQ(t)));
        // x > 0: x (1 - q/2); x < 0: x/2 q.
        return v < 0f ? halfX * q : v * Math.fma(q, -0.5f, 1f);
    }

    /** erfc's t = 1 / (1 + a/2). */
    private static float erfcT(float a) {
        return 1f / Math.fma(a, 0.5f, 1f);
    }

    /** erfc's Q(t), by Estrin's scheme as VectorMath writes it. */
    private static float erfcQ(float t) {
        float t2 = t * t;
        float t4 = t2 * t2;
        float q03 = Math.fma(Math.fma(t, VectorMath.ERFC_Q3, VectorMath.ERFC_Q2), t2,
                Math.fma(t, VectorMath.ERFC_Q1, VectorMath.ERFC_Q0));
        float q47 = Math.fma(Math.fma(t, VectorMath.ERFC_Q7, VectorMath.ERFC_Q6), t2,
                Math.fma(t, VectorMath.ERFC_Q5, VectorMath.ERFC_Q4));
        return Math.fma(Math.fma(t4, VectorMath.ERFC_Q8, q47), t4, q03);
    }

    /** One lane of VectorMath.geluTanh. */
    static float geluTanh(float v) {
        float u = Math.fma(v * v, VectorMath.GELU_TANH_CUBIC, 1f) * v * VectorMath.SQRT_2_OVER_PI;
        return v / (exp(u * -2f) + 1f);
    }

    /** One lane of VectorMath.tanh. */
    static float tanh(float v) {
        float a = Math.abs(v);
        if (a <= VectorMath.TANH_SMALL) {
            float s = v * v;
            float poly = Math.fma(s, VectorMath.TANH_P5, VectorMath.TANH_P4);
            poly = Math.fma(poly, s, VectorMath.TANH_P3);
            poly = Math.fma(poly, s, VectorMath.TANH_P2);
            poly = Math.fma(poly, s, VectorMath.TANH_P1);
            return Math.fma(v, poly * s, v);
        }
        float viaExp = 1f - 2f / (exp(a + a) + 1f);
        return v < 0f ? -viaExp : viaExp;
    }

    /** One lane of VectorMath.exp, the definition (see there for its variants). */
    static float exp(float x) {
        float xc = clampExpArg(x);
        float rounded = xc * LOG2E + ROUNDING_MAGIC;
        return scaleByTwoFactors(expPolyHorner(reduce(xc, rounded)), rounded);
    }

    /** One lane of VectorMath.expOfNonPositive, the softmax's: for x <= 0, one scale factor. */
    static float expOfNonPositive(float x) {
        float xc = x < VectorMath.NON_POSITIVE_MIN_ARG ? VectorMath.NON_POSITIVE_MIN_ARG : x;
        float rounded = xc * LOG2E + ROUNDING_MAGIC;
        return expPolyHorner(reduce(xc, rounded)) * Float.intBitsToFloat((Float.floatToRawIntBits(rounded) + 127) << 23);
    }

    /** e^r on [-ln2/2, ln2/2] by Horner's scheme, as VectorMath.exp. */
    private static float expPolyHorner(float r) {
        float p = Math.fma(r, EXP_C6, EXP_C5);
        p = Math.fma(p, r, EXP_C4);
        p = Math.fma(p, r, EXP_C3);
        p = Math.fma(p, r, EXP_C2);
        p = Math.fma(p, r, 1f);
        return Math.fma(p, r, 1f);
    }

    /** One lane of VectorMath.expEstrin: the polynomial by Estrin's scheme, as in erfc's tail. */
    static float expEstrin(float x) {
        float xc = clampExpArg(x);
        float rounded = xc * LOG2E + ROUNDING_MAGIC;
        float r = reduce(xc, rounded);
        float r2 = r * r;
        float p = Math.fma(Math.fma(Math.fma(r2, EXP_C6, Math.fma(r, EXP_C5, EXP_C4)), r2,
                Math.fma(r, EXP_C3, EXP_C2)), r2, r + 1f);
        return scaleByTwoFactors(p, rounded);
    }

    /** Clamped to [EXP_MIN_ARG, EXP_MAX_ARG] with compares, so that NaN stays NaN. */
    private static float clampExpArg(float x) {
        float clamped = x < EXP_MIN_ARG ? EXP_MIN_ARG : x;
        return clamped > EXP_MAX_ARG ? EXP_MAX_ARG : clamped;
    }

    /** r = x - n ln 2 in two steps, n from the rounded sum. */
    private static float reduce(float x, float rounded) {
        float n = rounded - ROUNDING_MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        return Math.fma(n, -LN2_LO, r);
    }

    /** p 2^n, as two factors 2^(n/2) 2^(n - n/2). */
    private static float scaleByTwoFactors(float p, float rounded) {
        int n = Float.floatToRawIntBits(rounded) - ROUNDING_MAGIC_BITS;
        int half = n >> 1;
        float scale1 = Float.intBitsToFloat((half + 127) << 23);
        float scale2 = Float.intBitsToFloat((n - half + 127) << 23);
        return p * scale1 * scale2;
    }

    // ---- attention ----

    /** {@link Attention#forward(ThreadPool, MemorySegment, int[], int[], int, int, int[], MemorySegment, MemorySegment)}'s twin. */
    public static void attention(ThreadPool pool, MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize,
            int[] attentionMask, MemorySegment out, MemorySegment probsOrNull) {
        long[] probsStarts = Checks.attention(qkv, starts, keys, heads, headSize, attentionMask, out, probsOrNull);
        pool.parallelFor((starts.length - 1) * heads, task -> {
            int s = task / heads, h = task % heads, length = starts[s + 1] - starts[s];
            attentionHead(qkv, starts[s], length, keys[s], h, heads, headSize, attentionMask, out, probsOrNull,
                    probsStarts[s] + (long) h * length * length);
        });
    }

    private static void attentionHead(MemorySegment qkv, int first, int seqLen, int keys, int h, int heads, int d,
            int[] mask, MemorySegment out, MemorySegment probs, long probsFirst) {
        int hidden = heads * d;
        float[] q = new float[seqLen * d], k = new float[keys * d], v = new float[keys * d];
        for (int i = 0; i < seqLen; i++) {
            long row = 4L * ((long) (first + i) * 3 * hidden + (long) h * d);
            MemorySegment.copy(qkv, FLOAT, row, q, i * d, d);
            if (i < keys) {
                MemorySegment.copy(qkv, FLOAT, row + 4L * hidden, k, i * d, d);
                MemorySegment.copy(qkv, FLOAT, row + 8L * hidden, v, i * d, d);
            }
        }
        float[] maskRow = null;
        if (mask != null) {
            maskRow = new float[keys];
            for (int j = 0; j < keys; j++) maskRow[j] = mask[first + j] != 0 ? 0f : -Float.MAX_VALUE;
            boolean zeros = true;
            for (float value : maskRow) zeros &= value == 0f;
            if (zeros) maskRow = null;
        }
        float scale = (float) (1 / Math.sqrt(d));
        float[] scores = new float[keys], row = new float[d], probsRow = new float[seqLen];
        for (int i = 0; i < seqLen; i++) {
            for (int j = 0; j < keys; j++) {
                float acc = 0f;
                for (int c = 0; c < d; c++) acc = Math.fma(q[i * d + c], k[j * d + c], acc);
                scores[j] = acc * scale;
            }
            float inverseSum = 1f / exponentials(scores, keys, maskRow);
            if (probs != null) {
                for (int j = 0; j < keys; j++) probsRow[j] = scores[j] * inverseSum;
                MemorySegment.copy(probsRow, 0, probs, FLOAT, 4 * (probsFirst + (long) i * seqLen), seqLen);
            }
            for (int c = 0; c < d; c++) {
                float acc = 0f;
                for (int j = 0; j < keys; j++) acc = Math.fma(scores[j], v[j * d + c], acc);
                row[c] = acc * inverseSum;
            }
            MemorySegment.copy(row, 0, out, FLOAT, 4L * ((long) (first + i) * hidden + (long) h * d), d);
        }
    }

    /** Softmax.exponentials with scale 1: x = e^(x + mask - max), in place; returns the sum. */
    private static float exponentials(float[] x, int cols, float[] mask) {
        int bound = cols - cols % LANES;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < bound; c++) {
            if (mask != null) x[c] = x[c] + mask[c];
            if (max < x[c]) max = x[c]; // the vector pass's compare and blend: a NaN is skipped
        }
        for (int c = bound; c < cols; c++) {
            x[c] = x[c] + (mask == null ? 0f : mask[c]);
            max = Math.max(max, x[c]);
        }
        float[] laneSums = new float[LANES];
        for (int c = 0; c < bound; c++) {
            x[c] = expOfNonPositive(x[c] - max);
            laneSums[c % LANES] += x[c];
        }
        float total = sumInLaneOrder(laneSums);
        for (int c = bound; c < cols; c++) {
            x[c] = (float) Math.exp(x[c] - max);
            total += x[c];
        }
        return total;
    }

    private static float sumInLaneOrder(float[] laneSums) {
        float total = 0f;
        for (float s : laneSums) total += s;
        return total;
    }

    // ---- layer norm ----

    /** {@link Norms#addLayerNorm(ThreadPool, MemorySegment, MemorySegment, int, int, MemorySegment, MemorySegment, float, MemorySegment)}'s twin. */
    public static void addLayerNorm(ThreadPool pool, MemorySegment x, MemorySegment residual, int rows, int cols,
            MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        Checks.matrix("x", x, rows, cols);
        if (residual != null) Checks.matrix("residual", residual, rows, cols);
        Checks.matrix("out", out, rows, cols);
        float[] g = new float[cols], b = new float[cols];
        MemorySegment.copy(gamma, FLOAT, 0, g, 0, cols);
        MemorySegment.copy(beta, FLOAT, 0, b, 0, cols);
        int tasks = Math.min(rows, pool.threads());
        pool.parallelFor(tasks, task -> {
            float[] s = new float[cols], r = residual == null ? null : new float[cols];
            for (int row = (int) ((long) rows * task / tasks), end = (int) ((long) rows * (task + 1) / tasks); row < end; row++) {
                long at = 4L * row * cols;
                MemorySegment.copy(x, FLOAT, at, s, 0, cols);
                if (r != null) MemorySegment.copy(residual, FLOAT, at, r, 0, cols);
                layerNormRow(s, r, cols, g, b, eps);
                MemorySegment.copy(s, 0, out, FLOAT, at, cols);
            }
        });
    }

    /** One row of Norms: s = LayerNorm(s + r) (r null: none), sums per lane then in lane order, the tail after them. */
    private static void layerNormRow(float[] s, float[] r, int cols, float[] gamma, float[] beta, float eps) {
        int bound = cols - cols % LANES;
        float[] laneSums = new float[LANES];
        if (r != null) for (int c = 0; c < cols; c++) s[c] = s[c] + r[c];
        for (int c = 0; c < bound; c++) laneSums[c % LANES] += s[c];
        float total = sumInLaneOrder(laneSums);
        for (int c = bound; c < cols; c++) total += s[c];
        float mean = total / cols;
        java.util.Arrays.fill(laneSums, 0f);
        for (int c = 0; c < bound; c++) {
            float d = s[c] - mean;
            laneSums[c % LANES] = Math.fma(d, d, laneSums[c % LANES]);
        }
        float squares = sumInLaneOrder(laneSums);
        for (int c = bound; c < cols; c++) {
            float d = s[c] - mean;
            squares += d * d;
        }
        float inverseStd = (float) (1 / Math.sqrt(squares / cols + eps));
        for (int c = 0; c < cols; c++) {
            s[c] = Math.fma((s[c] - mean) * inverseStd, gamma[c], beta[c]);
        }
    }
}
