package bertj.kernels;

import static bertj.kernels.GemmKernel.WIDTH;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code y[m, n] = act(x[m, k] . W[n, k]^T + b)}: the Linear layer, on weights packed by {@link PackedLinear}.
 *
 * <p>Blocking: the caller first interleaves x, once, into a heap array that every task reads (tiles of
 * {@link GemmKernel#ROWS} rows, {@code [k][row]}). The output is cut into tasks of up to {@link #ROW_BLOCK}
 * rows x a run of weight panels, handed to the pool. A task walks k in blocks of {@link #K_BLOCK}: it
 * copies each panel's k-slice (K_BLOCK x 16 floats, L1-sized) to a heap array and runs the
 * {@link GemmKernel} tile over its rows; later k blocks accumulate into y. The copy is what makes the inner loop free of bounds checks (see GemmKernel); with few rows the
 * first tile reads the slice from the packed weights itself, so that the memory stream overlaps the
 * arithmetic, and with many rows the next slice is copied in pieces between tiles.
 *
 * <p>Bias is the accumulators' starting value; the activation runs over the task's block of y once it is
 * final, while it is still in cache. For few rows (m up to 16) the layer is bound by reading the weights,
 * and the tasks split N so that both cores stream them. Each output element is one chain of FMAs over k
 * in order, whatever the threads and the split: results do not depend on the pool.
 */
public final class Linear {
    /** k per block: a panel slice of K_BLOCK x WIDTH floats (16 KB with AVX2) stays in L1. */
    static final int K_BLOCK = PackedLinear.K_BLOCK;
    /**
     * Rows per task: the x rows of one k block (ROW_BLOCK x K_BLOCK floats, 256 KB) stay in L2 (512 KB on
     * Zen 3) and each panel slice is reused by 64 tiles. 256 measured up to 8% faster than 128 at m = 512.
     */
    static final int ROW_BLOCK = 256;
    /**
     * Up to this many tiles per panel slice (32 rows), the first tile streams the slice from memory. At
     * m = 32 on one thread that was 15-20% faster than copying the slice in pieces between tiles; at m = 64
     * and beyond the two were level.
     */
    static final int STREAMED_TILES = 8;
    /** Largest copy of x made per call, in floats (64 MB); longer inputs go in chunks of rows. Tests lower it. */
    static long xCopyFloats = 1L << 24;
    /** Interleaving x is split over the pool from this many floats on. */
    private static final long MIN_PARALLEL_COPY_FLOATS = 1L << 16;
    /** Work per task worth a hand-off to another thread, in multiply-adds. */
    private static final long MIN_TASK_MACS = 1L << 16;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Exposed for {@link VectorSupport#describe()}. */
    static final int ROWS = GemmKernel.ROWS;

    private Linear() {}

    /** Per-thread buffers, grown on demand and then reused: no allocation per call in the steady state. */
    private static final class Scratch {
        /** The caller's copy of x, read by every task of its call. */
        float[] x = new float[0];
        private float[] row = new float[0];
        /** Two panel slices: the one being computed and the next one being copied in. */
        final float[][] panels = {new float[K_BLOCK * WIDTH], new float[K_BLOCK * WIDTH]};

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
        int rowBlock = Math.min(m, ROW_BLOCK);
        int rowBlocks = (m + rowBlock - 1) / rowBlock;
        int panels = w.panels();
        int panelsPerTask = panelsPerTask(pool.threads(), rowBlocks, panels, (long) rowBlock * k * WIDTH);
        int panelRuns = (panels + panelsPerTask - 1) / panelsPerTask;
        // x is interleaved once per call, on the pool, for every task (m x k copies, next to m x k x n
        // products): the kernel's loads from a heap array have their bounds checks hoisted out of the loop.
        // The pool's hand-off publishes the array to the workers.
        float[] xCopy = SCRATCH.get().x(m * k);
        int xTiles = (m + ROWS - 1) / ROWS;
        int xChunks = (long) m * k < MIN_PARALLEL_COPY_FLOATS ? 1 : Math.min(xTiles, 4 * pool.threads());
        int tilesPerChunk = (xTiles + xChunks - 1) / xChunks;
        pool.parallelFor((xTiles + tilesPerChunk - 1) / tilesPerChunk, chunk -> {
            int first = chunk * tilesPerChunk * ROWS;
            int rows = Math.min(m, first + tilesPerChunk * ROWS) - first;
            interleaveRows(x, (long) first * k, k, rows, k, xCopy, first * k, SCRATCH.get().row(ROWS * k));
        });
        pool.parallelFor(rowBlocks * panelRuns, task -> {
            int r0 = task / panelRuns * rowBlock;
            int p0 = task % panelRuns * panelsPerTask;
            computeBlock(xCopy, w, y, act, r0, Math.min(m, r0 + rowBlock), p0, Math.min(panels, p0 + panelsPerTask));
        });
    }

    /**
     * Panels per task: about four tasks per thread so that uneven progress balances, each still worth a
     * hand-off, and the number of runs of panels a multiple of the threads so that none idles at the end.
     */
    private static int panelsPerTask(int threads, int rowBlocks, int panels, long macsPerPanel) {
        if (threads == 1) {
            return panels;
        }
        int wantedRuns = Math.max(1, (4 * threads + rowBlocks - 1) / rowBlocks);
        int minPanels = (int) Math.min(panels, (MIN_TASK_MACS + macsPerPanel - 1) / macsPerPanel);
        int runs = Math.min(wantedRuns, panels / minPanels);
        if (runs * rowBlocks >= threads) {
            runs = Math.min(panels, (runs * rowBlocks + threads - 1) / threads * threads / rowBlocks);
        }
        runs = Math.max(1, runs);
        return (panels + runs - 1) / runs;
    }

    /** Computes {@code y[r0:r1, panels p0:p1]} completely: all of k, bias and activation. */
    private static void computeBlock(float[] x, PackedLinear w, MemorySegment y, Activation act,
            int r0, int r1, int p0, int p1) {
        int n = w.n();
        int k = w.k();
        long yStride = 4L * n;
        int rows = r1 - r0;
        int tiles = (rows + ROWS - 1) / ROWS;
        Scratch s = SCRATCH.get();
        float[] bias = w.bias();
        MemorySegment packed = w.packed();
        for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
            int kLen = Math.min(K_BLOCK, k - k0);
            int sliceFloats = kLen * WIDTH;
            boolean accumulate = k0 > 0;
            // The task's panel slices of this k block are consecutive in memory: one sequential stream.
            if (tiles <= STREAMED_TILES) {
                // Few rows (bound by memory bandwidth): the first tile of each slice reads it from the packed
                // weights, its loads overlapping its arithmetic, and leaves a copy for the other tiles.
                for (int p = p0; p < p1; p++) {
                    int c0 = p * WIDTH;
                    int cols = Math.min(WIDTH, n - c0);
                    float[] panel = s.panels[0];
                    GemmKernel.streamTile(Math.min(ROWS, rows), x, r0 * k + k0 * Math.min(ROWS, rows), packed, w.sliceOffset(k0, p),
                            tiles > 1 ? panel : null, kLen, bias, c0, accumulate, y, r0 * yStride + 4L * c0,
                            yStride, cols);
                    for (int t = 1; t < tiles; t++) {
                        int r = r0 + t * ROWS;
                        GemmKernel.tile(Math.min(ROWS, r1 - r), x, r * k + k0 * Math.min(ROWS, r1 - r), panel, 0, kLen, bias, c0,
                                accumulate, y, r * yStride + 4L * c0, yStride, cols);
                    }
                }
                continue;
            }
            // Many rows: slice p + 1 is copied in pieces between the tiles of slice p, so that its memory
            // traffic overlaps their arithmetic instead of stalling it.
            int piece = ((sliceFloats + tiles - 1) / tiles + WIDTH - 1) / WIDTH * WIDTH; // tiles * piece >= slice
            MemorySegment.copy(packed, ValueLayout.JAVA_FLOAT, w.sliceOffset(k0, p0), s.panels[0], 0, sliceFloats);
            for (int p = p0; p < p1; p++) {
                float[] panel = s.panels[(p - p0) & 1];
                float[] nextPanel = s.panels[(p - p0 + 1) & 1];
                long nextOffset = p + 1 < p1 ? w.sliceOffset(k0, p + 1) : -1;
                int c0 = p * WIDTH;
                int cols = Math.min(WIDTH, n - c0);
                for (int t = 0; t < tiles; t++) {
                    int r = r0 + t * ROWS;
                    GemmKernel.tile(Math.min(ROWS, r1 - r), x, r * k + k0 * Math.min(ROWS, r1 - r), panel, 0, kLen, bias, c0,
                            accumulate, y, r * yStride + 4L * c0, yStride, cols);
                    int from = t * piece;
                    if (nextOffset >= 0 && from < sliceFloats) {
                        MemorySegment.copy(packed, ValueLayout.JAVA_FLOAT, nextOffset + 4L * from, nextPanel, from,
                                Math.min(piece, sliceFloats - from));
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

    /**
     * Copies {@code rows} rows of {@code kLen} floats, the first at float index {@code first} of {@code x}
     * and the next ones {@code rowStride} floats apart, into {@code block} as the kernel reads them: tiles
     * of up to ROWS rows, each interleaved {@code [k][tileRows]} and starting at {@code blockOffset +
     * firstRowOfTile * kLen}.
     */
    static void interleaveRows(MemorySegment x, long first, long rowStride, int rows, int kLen, float[] block,
            int blockOffset, float[] row) {
        for (int t = 0; t < rows; t += ROWS) {
            int tileRows = Math.min(ROWS, rows - t);
            int base = blockOffset + t * kLen;
            for (int r = 0; r < tileRows; r++) {
                MemorySegment.copy(x, FLOAT, 4 * (first + (t + r) * rowStride), row, r * kLen, kLen);
            }
            if (tileRows == 4) {
                // A constant stride, so that C2 drops the bounds checks (1.6x faster than the loop below).
                for (int kk = 0, at = base; kk < kLen; kk++, at += 4) {
                    block[at] = row[kk];
                    block[at + 1] = row[kLen + kk];
                    block[at + 2] = row[2 * kLen + kk];
                    block[at + 3] = row[3 * kLen + kk];
                }
                continue;
            }
            for (int r = 0; r < tileRows; r++) {
                for (int kk = 0, at = base + r, from = r * kLen; kk < kLen; kk++, at += tileRows) {
                    block[at] = row[from + kk];
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
