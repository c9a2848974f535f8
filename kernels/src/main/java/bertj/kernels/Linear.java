package bertj.kernels;

import static bertj.kernels.Tuning.K_BLOCK;
import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.Tuning.TILE_ROWS;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import bertj.kernels.reference.Checks;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code y[m, n] = act(x[m, k] . W[n, k]^T + b)}: the Linear layer, on weights packed by {@link PackedLinear}.
 *
 * <p>Blocking, as a {@link GemmPlan} computes it from (m, k, n, threads) and the {@link Tuning} constants:
 * each thread first interleaves the rows of x its tasks need into a heap array of its own (tiles of
 * {@link Tuning#TILE_ROWS} rows, or 4 when m is at most 4, {@code [k][row]}, padded with zero rows). The
 * output is cut into tasks of up to {@link Tuning#ROW_BLOCK} rows x a run of weight panels, handed to the pool. A
 * task walks k in blocks of {@link Tuning#K_BLOCK}; for each panel's k-slice (K_BLOCK x PANEL_WIDTH floats, one
 * contiguous range of the packed weights) it runs the {@link GemmKernel} tile over its rows, which read the
 * slice in place: the first tile streams it from memory, the others find it in L2. Later k blocks
 * accumulate into y; tiles short of rows or columns go through a whole scratch tile. Weights stored in bfloat16
 * or int8 are widened to float32 in the tiles' loop ({@link ReducedGemmKernel}), or, int8 for many rows and
 * float16 always, once per slice into a buffer of the thread ({@link WeightWidening}) that the float32 tiles read.
 *
 * <p>Bias is written into y before the first k block; the activation runs over the task's block of y once it is
 * final, while it is still in cache. For few rows (m up to {@link Tuning#STREAMING_ROWS}) the layer is bound by reading the weights,
 * and the tasks split N so that both cores stream them. Each output element is one chain of FMAs over k
 * in order, whatever the threads and the split: results do not depend on the pool.
 *
 * <p>The reference twin, a dot product per output in double on the unpacked weights, is
 * {@link bertj.kernels.reference.ReferenceKernels#linear}.
 */
public final class Linear {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Bytes between the rows of a scratch tile. */
    private static final long EDGE_STRIDE = 4L * PANEL_WIDTH;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);

    private Linear() {}

    /** Per-thread buffers, grown on demand and then reused: no allocation per call in the steady state. */
    private static final class Scratch {
        /** This thread's interleaved copy of one row block of x: the one starting at row {@code firstRow} of the pass {@code pass}. */
        float[] x = new float[0];
        long pass;
        int firstRow;
        private float[] row = new float[0];
        /** A whole tile for the partial ones, native like y so that the kernel sees one kind of segment. */
        final MemorySegment edge = Arena.ofAuto().allocate(4L * TILE_ROWS * PANEL_WIDTH, 64);
        /** One slice of reduced-precision weights widened to float32 (see {@link WeightWidening}). */
        private MemorySegment wide;

        MemorySegment wide() {
            if (wide == null) {
                wide = Arena.ofAuto().allocate(4L * K_BLOCK * PANEL_WIDTH, 64);
            }
            return wide;
        }

        /** Whether {@link #x} already holds that row block (this thread ran a task of it before). */
        boolean holds(long pass, int firstRow) {
            return this.pass == pass && this.firstRow == firstRow;
        }

        float[] x(int floats) {
            if (x.length < floats) {
                x = new float[floats];
            }
            return x;
        }

        float[] row(int floats) {
            if (row.length < floats) {
                row = new float[floats];
            }
            return row;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /**
     * Numbers the passes of all calls, process-wide, so that a thread can tell whether its copy of x is
     * of the current pass: a new call may pass the same segment with other contents.
     */
    private static final AtomicLong PASSES = new AtomicLong();

    /**
     * {@code y = act(x . W^T + b)}, as {@link GemmPlan#of(int, int, int, int)} plans it.
     *
     * @param pool threads to use (the caller takes part)
     * @param x    {@code [m, k]} F32, row-major
     * @param m    rows (tokens), >= 0
     * @param w    packed weights and bias, {@code n x k}
     * @param y    {@code [m, n]} F32, row-major, written; must not overlap x
     * @param act  applied to every output element
     */
    public static void forward(ThreadPool pool, MemorySegment x, int m, PackedLinear w, MemorySegment y,
            Activation act) {
        forward(pool, x, m, w, y, act, Tuning.X_COPY_FLOATS);
    }

    /** {@link #forward}, with at most {@code maxXFloats} floats of x per pass over the weights (tests lower it). */
    static void forward(ThreadPool pool, MemorySegment x, int m, PackedLinear w, MemorySegment y, Activation act,
            long maxXFloats) {
        if (pool == null || w == null || act == null) {
            throw new IllegalArgumentException("pool, w and act must not be null");
        }
        int n = w.n();
        int k = w.k();
        Checks.matrix("x", x, m, k);
        Checks.matrix("y", y, m, n);
        if (m == 0) {
            return;
        }
        if (pool.threads() > 1) {
            pool.requireAccessible("x", x);
            pool.requireAccessible("y", y);
        }
        GemmPlan plan = GemmPlan.of(m, k, n, pool.threads(), maxXFloats);
        if (plan.passes() == 1) {
            pass(pool, plan, x, w, y, act);
            return;
        }
        int passRows = plan.passRows();
        for (int r = 0; r < m; r += passRows) {
            int rows = Math.min(passRows, m - r);
            GemmPlan passPlan = GemmPlan.of(rows, k, n, pool.threads(), maxXFloats);
            pass(pool, passPlan, x.asSlice(4L * r * k, 4L * rows * k), w, y.asSlice(4L * r * n, 4L * rows * n), act);
        }
    }

    /** One pass: all of {@code plan.m()} rows of x against all the weights. */
    private static void pass(ThreadPool pool, GemmPlan plan, MemorySegment x, PackedLinear w, MemorySegment y,
            Activation act) {
        int m = plan.m(), k = plan.k(), panels = plan.panels();
        int rowBlock = plan.rowBlock(), panelRuns = plan.panelRuns(), panelsPerTask = plan.panelsPerTask();
        int tileRows = plan.tileRows(), xFloats = plan.xCopyFloats();
        // Each thread interleaves the rows of x its tasks need into a heap array of its own, once per pass and
        // row block (m x k copies, next to m x k x n products): the kernel's loads from a heap array have
        // their bounds checks hoisted out of the loop, and no thread reads x from another core's cache.
        // Tasks are numbered row block by row block, so a thread often runs several of one row block in a row.
        long pass = PASSES.incrementAndGet();
        pool.parallelFor(plan.tasks(), task -> {
            int r0 = task / panelRuns * rowBlock;
            int r1 = Math.min(m, r0 + rowBlock);
            int p0 = task % panelRuns * panelsPerTask;
            Scratch scratch = SCRATCH.get();
            float[] xCopy = scratch.x(xFloats);
            if (!scratch.holds(pass, r0)) {
                interleaveRows(x, (long) r0 * k, k, r1 - r0, k, tileRows, xCopy, 0, scratch.row(TILE_ROWS * k));
                scratch.pass = pass;
                scratch.firstRow = r0;
            }
            computeBlock(xCopy, tileRows, w, y, act, r0, r1, p0, Math.min(panels, p0 + panelsPerTask));
        });
    }

    /**
     * Computes {@code y[r0:r1, panels p0:p1]} completely: all of k, bias and activation. {@code x} holds
     * rows r0 to r1 of x, interleaved.
     */
    private static void computeBlock(float[] x, int tileRows, PackedLinear w, MemorySegment y, Activation act,
            int r0, int r1, int p0, int p1) {
        int n = w.n();
        int k = w.k();
        long yStride = 4L * n;
        float[] bias = w.bias();
        MemorySegment edge = SCRATCH.get().edge;
        // Reduced-precision weights: widened in the tiles' loop (bf16 always, int8 for few rows), or else widened
        // once per slice into a buffer of this thread, which the float32 tiles then read like packed float32
        // weights (see ReducedGemmKernel). The int8 tiles take k in pairs: an odd k takes the buffer. float16 always
        // takes it: its widening is too many operations for the tiles' loop.
        Precision precision = w.precision();
        boolean inTiles = precision == Precision.BF16
                || precision == Precision.INT8 && r1 - r0 <= Tuning.INT8_IN_TILES_MAX_ROWS && k % 2 == 0;
        boolean widen = precision != Precision.FP32 && !inTiles;
        MemorySegment weights = widen ? SCRATCH.get().wide() : w.packed();
        Precision tileWeights = inTiles ? precision : Precision.FP32; // what the tiles read: widened slices are float32
        for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
            int kLen = Math.min(K_BLOCK, k - k0);
            boolean firstBlock = k0 == 0;
            // The task's panel slices of this k block are consecutive in memory: one sequential stream.
            for (int p = p0; p < p1; p++) {
                long slice = 0;
                if (widen) {
                    WeightWidening.widen(w, k0, p, weights);
                } else {
                    slice = w.sliceOffset(k0, p);
                }
                int c0 = p * PANEL_WIDTH;
                int cols = Math.min(PANEL_WIDTH, n - c0);
                for (int r = r0; r < r1; r += tileRows) {
                    int rows = Math.min(tileRows, r1 - r);
                    int xBase = (r - r0) * k + k0 * tileRows;
                    long yOff = r * yStride + 4L * c0;
                    if (rows == tileRows && cols == PANEL_WIDTH) {
                        if (firstBlock) {
                            fillWithBias(y, yOff, yStride, tileRows, bias, c0);
                        }
                        tile(tileWeights, tileRows, x, xBase, weights, slice, kLen, w, p, y, yOff, yStride);
                    } else {
                        // A partial tile (last rows, last columns) goes through a whole one in scratch.
                        if (firstBlock) {
                            fillWithBias(edge, 0, EDGE_STRIDE, tileRows, bias, c0);
                        } else {
                            for (int i = 0; i < rows; i++) {
                                MemorySegment.copy(y, yOff + i * yStride, edge, i * EDGE_STRIDE, 4L * cols);
                            }
                        }
                        tile(tileWeights, tileRows, x, xBase, weights, slice, kLen, w, p, edge, 0, EDGE_STRIDE);
                        for (int i = 0; i < rows; i++) {
                            MemorySegment.copy(edge, i * EDGE_STRIDE, y, yOff + i * yStride, 4L * cols);
                        }
                    }
                }
            }
        }
        if (act != Activation.NONE) {
            int c0 = p0 * PANEL_WIDTH;
            int c1 = Math.min(n, p1 * PANEL_WIDTH);
            for (int r = r0; r < r1; r++) {
                Activations.apply(act, y, r * yStride + 4L * c0, c1 - c0);
            }
        }
    }

    /** The micro-kernel for weights stored as {@code precision} (FP32: packed or already widened floats). */
    private static void tile(Precision precision, int rows, float[] x, int xBase, MemorySegment weights, long slice,
            int kLen, PackedLinear w, int p, MemorySegment c, long cOff, long cStride) {
        switch (precision) {
            case FP32 -> GemmKernel.tile(rows, x, xBase, weights, slice, kLen, c, cOff, cStride);
            case BF16 -> ReducedGemmKernel.tileBf16(rows, x, xBase, weights, slice, kLen, c, cOff, cStride);
            case INT8 -> ReducedGemmKernel.tileInt8(rows, x, xBase, weights, slice, kLen, w.scales(), p * PANEL_WIDTH, c,
                    cOff, cStride);
            case F16 -> throw new IllegalStateException("float16 weights are widened before the tiles");
        }
    }

    /** Sets the {@code rows} x PANEL_WIDTH tile at byte offset {@code off} of {@code c} to {@code bias[c0 .. c0 + PANEL_WIDTH)} in every row. */
    private static void fillWithBias(MemorySegment c, long off, long stride, int rows, float[] bias, int c0) {
        FloatVector lo = FloatVector.fromArray(FLOATS, bias, c0);
        FloatVector hi = FloatVector.fromArray(FLOATS, bias, c0 + LANES);
        for (int r = 0; r < rows; r++) {
            lo.intoMemorySegment(c, off + r * stride, ORDER);
            hi.intoMemorySegment(c, off + r * stride + 4L * LANES, ORDER);
        }
    }

    /**
     * Copies {@code rows} rows of {@code kLen} floats, the first at float index {@code first} of {@code x}
     * and the next ones {@code rowStride} floats apart, into {@code block} as the kernel reads them: tiles
     * of {@code tileRows} (4 or TILE_ROWS) rows, each interleaved {@code [k][tileRows]} and starting at
     * {@code blockOffset + firstRowOfTile * kLen}; the rows of the last tile beyond {@code rows} are zero.
     * {@code row} holds at least TILE_ROWS x kLen floats.
     */
    static void interleaveRows(MemorySegment x, long first, long rowStride, int rows, int kLen, int tileRows,
            float[] block, int blockOffset, float[] row) {
        for (int t = 0; t < rows; t += tileRows) {
            int filled = Math.min(tileRows, rows - t);
            if (filled == 8 && LANES == 16) {
                interleave8(x, first + t * rowStride, rowStride, kLen, block, blockOffset + t * kLen);
                continue;
            }
            for (int r = 0; r < filled; r++) {
                MemorySegment.copy(x, FLOAT, 4 * (first + (t + r) * rowStride), row, r * kLen, kLen);
            }
            Arrays.fill(row, filled * kLen, tileRows * kLen, 0f);
            // A constant stride, so that C2 drops the bounds checks (1.6x faster than a loop over rows).
            int base = blockOffset + t * kLen;
            if (tileRows == 8) {
                for (int kk = 0, at = base; kk < kLen; kk++, at += 8) {
                    block[at] = row[kk];
                    block[at + 1] = row[kLen + kk];
                    block[at + 2] = row[2 * kLen + kk];
                    block[at + 3] = row[3 * kLen + kk];
                    block[at + 4] = row[4 * kLen + kk];
                    block[at + 5] = row[5 * kLen + kk];
                    block[at + 6] = row[6 * kLen + kk];
                    block[at + 7] = row[7 * kLen + kk];
                }
            } else {
                for (int kk = 0, at = base; kk < kLen; kk++, at += 4) {
                    block[at] = row[kk];
                    block[at + 1] = row[kLen + kk];
                    block[at + 2] = row[2 * kLen + kk];
                    block[at + 3] = row[3 * kLen + kk];
                }
            }
        }
    }

    // Index vectors of the three rounds of interleave8 (see the diagram there): in each, a two-source permute
    // (vpermt2ps) merges a pair of vectors, taking index i < 16 from lane i of the first and i >= 16 from lane
    // i - 16 of the second.
    private static final IntVector ROUND1_LO = indices(0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    private static final IntVector ROUND1_HI = indices(2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
    private static final IntVector ROUND2_LO = indices(0, 1, 16, 17, 2, 3, 18, 19, 8, 9, 24, 25, 10, 11, 26, 27);
    private static final IntVector ROUND2_HI = indices(4, 5, 20, 21, 6, 7, 22, 23, 12, 13, 28, 29, 14, 15, 30, 31);
    private static final IntVector ROUND3_LO = indices(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    private static final IntVector ROUND3_HI = indices(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);

    private static IntVector indices(int... lanes) {
        // Only used with 16 lanes; elsewhere a placeholder of the right species.
        return LANES == 16 ? IntVector.fromArray(INTS, lanes, 0) : IntVector.zero(INTS);
    }

    /**
     * {@link #interleaveRows} for one whole tile of 8 rows with 16-float vectors: 8 row vectors of 16 k
     * become 8 vectors of 2 k x 8 rows in three rounds of permutes, 4-5x faster than the scalar copy (which
     * cost 0.45 ns per float, up to 7% of a Linear at k = 1536 on two threads). The k beyond the last
     * multiple of 16 are copied one by one. It is the butterfly of an 8 x 16 transpose; {@code rk} is row r
     * at k = kk + k, each vector written as its 16 lanes:
     *
     * <pre>
     * in     v0 = 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f     (row 0, k 0..f)   ... v7 = row 7
     * round 1, rows (0,1) (2,3) (4,5) (6,7): pairs of k
     *        a0 = 00 10 01 11 | 04 14 05 15 | 08 18 09 19 | 0c 1c 0d 1d       (lo1: k 0,1 4,5 8,9 c,d)
     *        a1 = 02 12 03 13 | 06 16 07 17 | 0a 1a 0b 1b | 0e 1e 0f 1f       (hi1: k 2,3 6,7 a,b e,f)
     *        a2, a3 the same of rows 2, 3; a4, a5 of rows 4, 5; a6, a7 of rows 6, 7
     * round 2, (a0,a2) (a1,a3) (a4,a6) (a5,a7): 4 rows of one k side by side
     *        b0 = 00 10 20 30 01 11 21 31 | 08 18 28 38 09 19 29 39           (lo2 of a0, a2: k 0,1 8,9)
     *        b2 = 04 14 24 34 05 15 25 35 | 0c 1c 2c 3c 0d 1d 2d 3d           (hi2 of a0, a2: k 4,5 c,d)
     *        b1, b3 (of a1, a3): k 2,3 a,b and 6,7 e,f; b4..b7 the same of rows 4-7
     * round 3, (b0,b4) (b1,b5) (b2,b6) (b3,b7): all 8 rows of one k side by side, two k per vector
     *        out[0] = lo3(b0, b4) = 00 10 20 30 40 50 60 70 01 11 21 31 41 51 61 71   (k 0, 1)
     *        out[1] = lo3(b1, b5) = k 2, 3;  out[2] = lo3(b2, b6) = k 4, 5;  out[3] = lo3(b3, b7) = k 6, 7
     *        out[4..7] = hi3 of the same pairs: k 8, 9 .. k e, f
     * </pre>
     *
     * so that vector q of the output holds k = kk + 2q and kk + 2q + 1, each as 8 rows: {@code [k][8]}.
     */
    static void interleave8(MemorySegment x, long first, long rowStride, int kLen, float[] block, int base) {
        IntVector lo1 = ROUND1_LO, hi1 = ROUND1_HI, lo2 = ROUND2_LO, hi2 = ROUND2_HI, lo3 = ROUND3_LO, hi3 = ROUND3_HI;
        long r0 = 4 * first;
        long stride = 4 * rowStride;
        int kk = 0;
        for (; kk + 16 <= kLen; kk += 16) {
            long at = r0 + 4L * kk;
            IntVector v0 = FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).reinterpretAsInts();
            IntVector v1 = FloatVector.fromMemorySegment(FLOATS, x, at + stride, ORDER).reinterpretAsInts();
            IntVector v2 = FloatVector.fromMemorySegment(FLOATS, x, at + 2 * stride, ORDER).reinterpretAsInts();
            IntVector v3 = FloatVector.fromMemorySegment(FLOATS, x, at + 3 * stride, ORDER).reinterpretAsInts();
            IntVector v4 = FloatVector.fromMemorySegment(FLOATS, x, at + 4 * stride, ORDER).reinterpretAsInts();
            IntVector v5 = FloatVector.fromMemorySegment(FLOATS, x, at + 5 * stride, ORDER).reinterpretAsInts();
            IntVector v6 = FloatVector.fromMemorySegment(FLOATS, x, at + 6 * stride, ORDER).reinterpretAsInts();
            IntVector v7 = FloatVector.fromMemorySegment(FLOATS, x, at + 7 * stride, ORDER).reinterpretAsInts();
            // Round 1: rows (0, 1), (2, 3), (4, 5), (6, 7).
            IntVector a0 = lo1.selectFrom(v0, v1), a1 = hi1.selectFrom(v0, v1);
            IntVector a2 = lo1.selectFrom(v2, v3), a3 = hi1.selectFrom(v2, v3);
            IntVector a4 = lo1.selectFrom(v4, v5), a5 = hi1.selectFrom(v4, v5);
            IntVector a6 = lo1.selectFrom(v6, v7), a7 = hi1.selectFrom(v6, v7);
            // Round 2: pairs of pairs.
            IntVector b0 = lo2.selectFrom(a0, a2), b2 = hi2.selectFrom(a0, a2);
            IntVector b1 = lo2.selectFrom(a1, a3), b3 = hi2.selectFrom(a1, a3);
            IntVector b4 = lo2.selectFrom(a4, a6), b6 = hi2.selectFrom(a4, a6);
            IntVector b5 = lo2.selectFrom(a5, a7), b7 = hi2.selectFrom(a5, a7);
            // Round 3: the two halves of the tile; vector q of the result holds k = kk + 2q and kk + 2q + 1.
            int out = base + kk * 8;
            lo3.selectFrom(b0, b4).reinterpretAsFloats().intoArray(block, out);
            lo3.selectFrom(b1, b5).reinterpretAsFloats().intoArray(block, out + 16);
            lo3.selectFrom(b2, b6).reinterpretAsFloats().intoArray(block, out + 32);
            lo3.selectFrom(b3, b7).reinterpretAsFloats().intoArray(block, out + 48);
            hi3.selectFrom(b0, b4).reinterpretAsFloats().intoArray(block, out + 64);
            hi3.selectFrom(b1, b5).reinterpretAsFloats().intoArray(block, out + 80);
            hi3.selectFrom(b2, b6).reinterpretAsFloats().intoArray(block, out + 96);
            hi3.selectFrom(b3, b7).reinterpretAsFloats().intoArray(block, out + 112);
        }
        for (int out = base + kk * 8; kk < kLen; kk++, out += 8) {
            for (int r = 0; r < 8; r++) {
                block[out + r] = x.getAtIndex(FLOAT, first + r * rowStride + kk);
            }
        }
    }
}
