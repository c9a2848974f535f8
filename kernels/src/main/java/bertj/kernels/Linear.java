package bertj.kernels;

import static bertj.kernels.GemmKernel.WIDTH;
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
 * <p>Blocking: each thread first interleaves the rows of x its tasks need into a heap array of its own (tiles of
 * {@link GemmKernel#ROWS} rows, or 4 when m is at most 4, {@code [k][row]}, padded with zero rows). The
 * output is cut into tasks of up to {@link #ROW_BLOCK} rows x a run of weight panels, handed to the pool. A
 * task walks k in blocks of {@link #K_BLOCK}; for each panel's k-slice (K_BLOCK x WIDTH floats, one
 * contiguous range of the packed weights) it runs the {@link GemmKernel} tile over its rows, which read the
 * slice in place: the first tile streams it from memory, the others find it in L2. Later k blocks
 * accumulate into y; tiles short of rows or columns go through a whole scratch tile.
 *
 * <p>Bias is written into y before the first k block; the activation runs over the task's block of y once it is
 * final, while it is still in cache. For few rows (m up to STREAMING_ROWS) the layer is bound by reading the weights,
 * and the tasks split N so that both cores stream them. Each output element is one chain of FMAs over k
 * in order, whatever the threads and the split: results do not depend on the pool.
 *
 * <p>The reference twin, a dot product per output in double on the unpacked weights, is
 * {@link bertj.kernels.reference.ReferenceKernels#linear}.
 */
public final class Linear {
    /** k per block (see PackedLinear.K_BLOCK). */
    static final int K_BLOCK = PackedLinear.K_BLOCK;
    /**
     * Most rows per task. Each panel slice comes from DRAM for the task's first tile and from cache for the
     * others, so more rows per task hide more of that first fetch.
     */
    static final int ROW_BLOCK = 1024;
    /**
     * Most floats of x per task and k block: 2 MB, twice Zen 5's L2 (x tiles then come partly from L3), so
     * fewer rows when k is large. Against 512 KB: 2-3% faster forwards at 512-1024 rows (same-process A/B),
     * up to 10% on single Linears at m = 1024.
     */
    static final int X_BLOCK_FLOATS = 1 << 19;
    /** Most floats of x per pass over the weights (64 MB); longer inputs go in chunks of rows. Tests lower it. */
    static long xCopyFloats = 1L << 24;
    /** Up to this many rows a Linear is bound by reading its weights. */
    private static final int STREAMING_ROWS = 16;
    /** Work per task worth a hand-off to another thread, in multiply-adds. */
    private static final long MIN_TASK_MACS = 1L << 16;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Rows per tile (see GemmKernel). */
    static final int ROWS = GemmKernel.ROWS;
    /** Bytes between the rows of a scratch tile. */
    private static final long EDGE_STRIDE = 4L * WIDTH;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);

    private Linear() {}

    /** Per-thread buffers, grown on demand and then reused: no allocation per call in the steady state. */
    private static final class Scratch {
        /** This thread's copy of one row block of x, interleaved: rows from firstRow on, of the Linear call numbered call. */
        float[] x = new float[0];
        long call;
        int firstRow;
        private float[] row = new float[0];
        /** A whole tile for the partial ones, native like y so that the kernel sees one kind of segment. */
        final MemorySegment edge = Arena.ofAuto().allocate(4L * ROWS * WIDTH, 64);

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
    /** Numbers the calls, so that a thread knows whether its copy of x is the current call's. */
    private static final AtomicLong CALLS = new AtomicLong();

    /**
     * {@code y = act(x . W^T + b)}.
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
        // Rows in chunks of at most xCopyFloats floats of x.
        int chunkRows = (int) Math.max(ROW_BLOCK, xCopyFloats / k / ROW_BLOCK * ROW_BLOCK);
        for (int r = 0; r < m; r += chunkRows) {
            int rows = Math.min(chunkRows, m - r);
            forwardRows(pool, x.asSlice(4L * r * k, 4L * rows * k), rows, w, y.asSlice(4L * r * n, 4L * rows * n), act);
        }
    }

    private static void forwardRows(ThreadPool pool, MemorySegment x, int m, PackedLinear w, MemorySegment y,
            Activation act) {
        int k = w.k();
        int maxRows = Math.max(ROWS, Math.min(ROW_BLOCK, X_BLOCK_FLOATS / Math.min(k, K_BLOCK)) / ROWS * ROWS);
        int rowBlocks = (m + maxRows - 1) / maxRows;
        int rowBlock = ((m + rowBlocks - 1) / rowBlocks + ROWS - 1) / ROWS * ROWS; // even blocks of whole tiles
        int panels = w.panels();
        int panelsPerTask = panelsPerTask(pool.threads(), m, rowBlocks, panels, (long) rowBlock * k * WIDTH);
        int panelRuns = (panels + panelsPerTask - 1) / panelsPerTask;
        // Each thread interleaves the rows of x its tasks need into a heap array of its own, once per call
        // and row block (m x k copies, next to m x k x n products): the kernel's loads from a heap array have
        // their bounds checks hoisted out of the loop, and no thread reads x from another core's cache.
        // Up to 4 rows (the pooler, one short text), 4-row tiles: an 8-row tile of mostly padding costs as
        // much arithmetic as reading the weights takes (m = 1 ran at half MLAS's speed).
        int tileRows = m <= 4 ? 4 : ROWS;
        int xFloats = (Math.min(rowBlock, m) + tileRows - 1) / tileRows * tileRows * k; // one row block
        long call = CALLS.incrementAndGet();
        pool.parallelFor(rowBlocks * panelRuns, task -> {
            int r0 = task / panelRuns * rowBlock;
            int r1 = Math.min(m, r0 + rowBlock);
            int p0 = task % panelRuns * panelsPerTask;
            Scratch scratch = SCRATCH.get();
            float[] xCopy = scratch.x(xFloats);
            if (scratch.call != call || scratch.firstRow != r0) {
                interleaveRows(x, (long) r0 * k, k, r1 - r0, k, tileRows, xCopy, 0, scratch.row(ROWS * k));
                scratch.call = call;
                scratch.firstRow = r0;
            }
            computeBlock(xCopy, tileRows, w, y, act, r0, r1, p0, Math.min(panels, p0 + panelsPerTask));
        });
    }

    /**
     * Panels per task. Up to {@link #STREAMING_ROWS} rows the call is short and bound by reading the weights:
     * about four tasks per thread, so that the caller takes over the work of a worker that wakes up late
     * (one task per thread was 8-12% slower at 8 tokens). Above, as few runs of panels as give every thread
     * the same number of tasks: long runs keep each thread on one contiguous stream of the weights (four
     * tasks per thread were 3-27% slower there on two threads, same-process A/B). Each task is still worth a
     * hand-off.
     */
    private static int panelsPerTask(int threads, int m, int rowBlocks, int panels, long macsPerPanel) {
        if (threads == 1) {
            return panels;
        }
        int minPanels = (int) Math.min(panels, (MIN_TASK_MACS + macsPerPanel - 1) / macsPerPanel);
        int maxRuns = Math.max(1, panels / minPanels);
        int wantedTasks = (m <= STREAMING_ROWS ? 4 : 1) * threads;
        int runs = Math.min(maxRuns, Math.max(1, (wantedTasks + rowBlocks - 1) / rowBlocks));
        while (runs * rowBlocks % threads != 0 && runs < maxRuns) {
            runs++;
        }
        return (panels + runs - 1) / runs;
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
        MemorySegment packed = w.packed();
        MemorySegment edge = SCRATCH.get().edge;
        for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
            int kLen = Math.min(K_BLOCK, k - k0);
            boolean firstBlock = k0 == 0;
            // The task's panel slices of this k block are consecutive in memory: one sequential stream.
            for (int p = p0; p < p1; p++) {
                long slice = w.sliceOffset(k0, p);
                int c0 = p * WIDTH;
                int cols = Math.min(WIDTH, n - c0);
                for (int r = r0; r < r1; r += tileRows) {
                    int rows = Math.min(tileRows, r1 - r);
                    int xBase = (r - r0) * k + k0 * tileRows;
                    long yOff = r * yStride + 4L * c0;
                    if (rows == tileRows && cols == WIDTH) {
                        if (firstBlock) {
                            fillWithBias(y, yOff, yStride, tileRows, bias, c0);
                        }
                        GemmKernel.tile(tileRows, x, xBase, packed, slice, kLen, y, yOff, yStride);
                    } else {
                        // A partial tile (last rows, last columns) goes through a whole one in scratch.
                        if (firstBlock) {
                            fillWithBias(edge, 0, EDGE_STRIDE, tileRows, bias, c0);
                        } else {
                            for (int i = 0; i < rows; i++) {
                                MemorySegment.copy(y, yOff + i * yStride, edge, i * EDGE_STRIDE, 4L * cols);
                            }
                        }
                        GemmKernel.tile(tileRows, x, xBase, packed, slice, kLen, edge, 0, EDGE_STRIDE);
                        for (int i = 0; i < rows; i++) {
                            MemorySegment.copy(edge, i * EDGE_STRIDE, y, yOff + i * yStride, 4L * cols);
                        }
                    }
                }
            }
        }
        if (act != Activation.NONE) {
            int c0 = p0 * WIDTH;
            int c1 = Math.min(n, p1 * WIDTH);
            for (int r = r0; r < r1; r++) {
                Activations.apply(act, y, r * yStride + 4L * c0, c1 - c0);
            }
        }
    }

    /** Sets the {@code rows} x WIDTH tile at byte offset {@code off} of {@code c} to {@code bias[c0 .. c0 + WIDTH)} in every row. */
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
     * of {@code tileRows} (4 or ROWS) rows, each interleaved {@code [k][tileRows]} and starting at
     * {@code blockOffset + firstRowOfTile * kLen}; the rows of the last tile beyond {@code rows} are zero.
     * {@code row} holds at least ROWS x kLen floats.
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

    // Index vectors of the three rounds of interleave8: in each, a two-source permute (vpermt2ps) merges a pair
    // of vectors, lanes 0-15 of the first and 16-31 of the second. They move the row number into the lanes
    // and the k into the vector number, as the butterfly of a matrix transpose does.
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
     * cost 0.45 ns per float, up to 7% of a Linear at k = 1536 on two threads).
     */
    private static void interleave8(MemorySegment x, long first, long rowStride, int kLen, float[] block, int base) {
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
