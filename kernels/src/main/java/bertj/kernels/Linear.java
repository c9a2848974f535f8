package bertj.kernels;

import static bertj.kernels.GemmKernel.WIDTH;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * {@code y[m, n] = act(x[m, k] . W[n, k]^T + b)}: the Linear layer, on weights packed by {@link PackedLinear}.
 *
 * <p>Blocking: the caller first interleaves x, once, into a heap array that every task reads (tiles of
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
    /** Largest copy of x made per call, in floats (64 MB); longer inputs go in chunks of rows. Tests lower it. */
    static long xCopyFloats = 1L << 24;
    /** Interleaving x is split over the pool from this many floats on. */
    private static final long MIN_PARALLEL_COPY_FLOATS = 1L << 12;
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

    private Linear() {}

    /** Per-thread buffers, grown on demand and then reused: no allocation per call in the steady state. */
    private static final class Scratch {
        /** The caller's copy of x, read by every task of its call. */
        float[] x = new float[0];
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
        Activations.checkMatrix("x", x, m, k);
        Activations.checkMatrix("y", y, m, n);
        if (m == 0) {
            return;
        }
        if (pool.threads() > 1) {
            pool.requireAccessible("x", x);
            pool.requireAccessible("y", y);
        }
        // Rows in chunks whose copy of x stays within xCopyFloats.
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
        // x is interleaved once per call, on the pool, for every task (m x k copies, next to m x k x n
        // products): the kernel's loads from a heap array have their bounds checks hoisted out of the loop.
        // The pool's hand-off publishes the array to the workers.
        // Up to 4 rows (the pooler, one short text), 4-row tiles: an 8-row tile of mostly padding costs as
        // much arithmetic as reading the weights takes (m = 1 ran at half MLAS's speed).
        int tileRows = m <= 4 ? 4 : ROWS;
        int xTiles = (m + tileRows - 1) / tileRows;
        float[] xCopy = SCRATCH.get().x(xTiles * tileRows * k);
        int xChunks = (long) m * k < MIN_PARALLEL_COPY_FLOATS ? 1 : Math.min(xTiles, 4 * pool.threads());
        int tilesPerChunk = (xTiles + xChunks - 1) / xChunks;
        pool.parallelFor((xTiles + tilesPerChunk - 1) / tilesPerChunk, chunk -> {
            int first = chunk * tilesPerChunk * tileRows;
            int rows = Math.min(m, first + tilesPerChunk * tileRows) - first;
            interleaveRows(x, (long) first * k, k, rows, k, tileRows, xCopy, first * k, SCRATCH.get().row(ROWS * k));
        });
        pool.parallelFor(rowBlocks * panelRuns, task -> {
            int r0 = task / panelRuns * rowBlock;
            int p0 = task % panelRuns * panelsPerTask;
            computeBlock(xCopy, tileRows, w, y, act, r0, Math.min(m, r0 + rowBlock), p0,
                    Math.min(panels, p0 + panelsPerTask));
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

    /** Computes {@code y[r0:r1, panels p0:p1]} completely: all of k, bias and activation. */
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
                    int xBase = r * k + k0 * tileRows;
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

    /**
     * The scalar twin of {@link #forward}, on the original Hugging Face weights: each output is a dot product
     * accumulated in double, plus the bias, through the activation in double, rounded once to float.
     *
     * @param weight {@code [n, k]} F32
     * @param bias   {@code [n]} F32 or null
     */
    public static void forwardScalar(MemorySegment x, int m, MemorySegment weight, MemorySegment bias, int n, int k,
            MemorySegment y, Activation act) {
        if (n <= 0 || k <= 0) {
            throw new IllegalArgumentException("n and k must be positive, got n = " + n + ", k = " + k);
        }
        Activations.checkMatrix("x", x, m, k);
        Activations.checkMatrix("weight", weight, n, k);
        Activations.checkMatrix("y", y, m, n);
        if (bias != null) {
            Activations.checkLength("bias", bias, n);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = bias == null ? 0 : bias.getAtIndex(FLOAT, j);
                for (int kk = 0; kk < k; kk++) {
                    sum += (double) x.getAtIndex(FLOAT, (long) i * k + kk)
                            * weight.getAtIndex(FLOAT, (long) j * k + kk);
                }
                y.setAtIndex(FLOAT, (long) i * n + j, (float) Activations.apply(act, sum));
            }
        }
    }
}
