package bertj.kernels;

import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.Checks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * LayerNorm over the last dimension, as {@code torch.nn.LayerNorm}: two passes, {@code mean}, then the
 * biased {@code var = mean((x - mean)^2)}, then {@code (x - mean) / sqrt(var + eps) * gamma + beta}.
 * {@link #addLayerNorm} fuses the residual add that precedes every LayerNorm in BERT (post-LN). The reference
 * twin, with its statistics in double, is {@link bertj.kernels.reference.ReferenceKernels#addLayerNorm}.
 */
public final class Norms {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /**
     * One vector's lanes, stored so that they are added in lane order by plain Java: {@code lane(i)} with a
     * variable i, or a vector passed to a helper C2 does not inline, is slow.
     */
    private static final ThreadLocal<float[]> LANES_SCRATCH = ThreadLocal.withInitial(() -> new float[LANES]);

    private Norms() {}

    /**
     * {@code out[r, :] = LN(x[r, :])}.
     *
     * @param x     {@code [rows, cols]} F32
     * @param gamma {@code [cols]}
     * @param beta  {@code [cols]}
     * @param out   {@code [rows, cols]}, may be x itself
     */
    public static void layerNorm(MemorySegment x, int rows, int cols, MemorySegment gamma, MemorySegment beta,
            float eps, MemorySegment out) {
        addLayerNorm(x, null, rows, cols, gamma, beta, eps, out);
    }

    /**
     * {@code out[r, :] = LN(x[r, :] + residual[r, :])}.
     *
     * @param residual {@code [rows, cols]}, or null for a plain LayerNorm
     * @param out      {@code [rows, cols]}, may be x or residual itself
     */
    public static void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
            MemorySegment beta, float eps, MemorySegment out) {
        Checks.layerNorm(x, residual, rows, cols, gamma, beta, out);
        float[] lanes = LANES_SCRATCH.get();
        for (int r = 0; r < rows; r++) {
            row(x, residual, 4L * r * cols, cols, gamma, beta, eps, out, lanes);
        }
    }

    /** {@link #addLayerNorm} with rows spread over the pool. */
    public static void addLayerNorm(ThreadPool pool, MemorySegment x, MemorySegment residual, int rows, int cols,
            MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        Checks.layerNorm(x, residual, rows, cols, gamma, beta, out);
        int perTask = Tuning.NORM_ROWS_PER_TASK;
        int tasks = (rows + perTask - 1) / perTask;
        pool.parallelFor(tasks, t -> {
            float[] lanes = LANES_SCRATCH.get();
            for (int r = t * perTask, end = Math.min(rows, r + perTask); r < end; r++) {
                row(x, residual, 4L * r * cols, cols, gamma, beta, eps, out, lanes);
            }
        });
    }

    /** {@link #layerNorm} with rows spread over the pool. */
    public static void layerNorm(ThreadPool pool, MemorySegment x, int rows, int cols, MemorySegment gamma,
            MemorySegment beta, float eps, MemorySegment out) {
        addLayerNorm(pool, x, null, rows, cols, gamma, beta, eps, out);
    }

    /**
     * One row at byte offset {@code off}. Sums use LANES partial sums (pairwise-like rounding error), added
     * up in lane order so that a row gives the same bits before and after JIT compilation. Each
     * pass is its own method: one method holding all three was too large for C1's register allocator, and
     * the JIT then left it unoptimised, a hundred times slower.
     */
    private static void row(MemorySegment x, MemorySegment residual, long off, int cols, MemorySegment gamma,
            MemorySegment beta, float eps, MemorySegment out, float[] lanes) {
        float mean = addAndSum(x, residual, off, cols, out, lanes) / cols;
        float inverseStd = (float) (1 / Math.sqrt(squaredDeviations(out, off, cols, mean, lanes) / cols + eps));
        normalize(out, off, cols, mean, inverseStd, gamma, beta);
    }

    /** Pass 1: {@code out = x + residual} (out may alias either), returning the sum. */
    private static float addAndSum(MemorySegment x, MemorySegment residual, long off, int cols, MemorySegment out,
            float[] lanes) {
        int bound = FLOATS.loopBound(cols);
        FloatVector sum = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            long at = off + 4L * c;
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, at, ORDER);
            if (residual != null) {
                v = v.add(FloatVector.fromMemorySegment(FLOATS, residual, at, ORDER));
            }
            v.intoMemorySegment(out, at, ORDER);
            sum = sum.add(v);
        }
        sum.intoArray(lanes, 0);
        float total = VectorSupport.sumInLaneOrder(lanes);
        if (bound < cols) {
            VectorMask<Float> tail = FLOATS.indexInRange(bound, cols);
            long at = off + 4L * bound;
            FloatVector v = FloatVector.fromMemorySegment(FLOATS, x, at, ORDER, tail);
            if (residual != null) {
                v = v.add(FloatVector.fromMemorySegment(FLOATS, residual, at, ORDER, tail));
            }
            v.intoMemorySegment(out, at, ORDER, tail);
            v.intoArray(lanes, 0);
            for (int lane = 0; lane < cols - bound; lane++) {
                total += lanes[lane]; // in lane order, as sumInLaneOrder
            }
        }
        return total;
    }

    /** Pass 2: {@code sum((s - mean)^2)}. */
    private static float squaredDeviations(MemorySegment s, long off, int cols, float mean, float[] lanes) {
        int bound = FLOATS.loopBound(cols);
        FloatVector squares = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            FloatVector d = FloatVector.fromMemorySegment(FLOATS, s, off + 4L * c, ORDER).sub(mean);
            squares = d.fma(d, squares);
        }
        squares.intoArray(lanes, 0);
        float total = VectorSupport.sumInLaneOrder(lanes);
        if (bound < cols) {
            VectorMask<Float> tail = FLOATS.indexInRange(bound, cols);
            FloatVector d = FloatVector.fromMemorySegment(FLOATS, s, off + 4L * bound, ORDER, tail).sub(mean);
            d.mul(d).intoArray(lanes, 0);
            for (int lane = 0; lane < cols - bound; lane++) {
                total += lanes[lane];
            }
        }
        return total;
    }

    /** Pass 3: {@code s = (s - mean) * inverseStd * gamma + beta}, in place. */
    private static void normalize(MemorySegment s, long off, int cols, float mean, float inverseStd,
            MemorySegment gamma, MemorySegment beta) {
        int bound = FLOATS.loopBound(cols);
        for (int c = 0; c < bound; c += LANES) {
            long at = off + 4L * c;
            FloatVector d = FloatVector.fromMemorySegment(FLOATS, s, at, ORDER).sub(mean).mul(inverseStd);
            d.fma(FloatVector.fromMemorySegment(FLOATS, gamma, 4L * c, ORDER),
                    FloatVector.fromMemorySegment(FLOATS, beta, 4L * c, ORDER)).intoMemorySegment(s, at, ORDER);
        }
        if (bound < cols) {
            VectorMask<Float> tail = FLOATS.indexInRange(bound, cols);
            long at = off + 4L * bound;
            FloatVector d = FloatVector.fromMemorySegment(FLOATS, s, at, ORDER, tail).sub(mean).mul(inverseStd);
            d.fma(FloatVector.fromMemorySegment(FLOATS, gamma, 4L * bound, ORDER, tail),
                    FloatVector.fromMemorySegment(FLOATS, beta, 4L * bound, ORDER, tail))
                    .intoMemorySegment(s, at, ORDER, tail);
        }
    }
}
