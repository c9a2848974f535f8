package bertj.kernels;

import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.Tuning.TILE_ROWS;

/**
 * How {@link Linear} cuts one call {@code y[m, n] = x[m, k] . W[n, k]^T} into work, computed from the
 * shape, the threads and the {@link Tuning} constants alone: the schedule apart from the math. No field
 * changes a result bit (each output is one chain of FMAs over k in order); they only change the speed.
 *
 * <pre>
 *   m rows of x ── passes of up to passRows rows (bounds each thread's copy of x; one pass below 16M floats)
 *     a pass ──── rowBlocks row blocks of rowBlock rows (whole tiles) x panelRuns runs of panelsPerTask panels
 *                 = tasks, handed to the pool; task t is row block t / panelRuns, panel run t % panelRuns
 *       a task ── kBlocks blocks of kBlock k; per block and panel, tiles of tileRows rows x PANEL_WIDTH columns
 * </pre>
 *
 * Each thread copies the rows of its task's row block into its own heap array, interleaved by tiles
 * ({@code [k][tileRows]}, xCopyFloats floats), and keeps it for its next task of the same row block.
 *
 * @param m             rows of x of the whole call
 * @param k             input features
 * @param n             output features
 * @param threads       the pool's threads
 * @param passRows      most rows per pass over the weights (the last pass may be shorter; its own plan
 *                      is {@code of(rows, ...)})
 * @param tileRows      rows per micro-kernel tile: {@link Tuning#TILE_ROWS}, or 4 up to 4 rows
 * @param rowBlock      rows per task (whole tiles; the last block may be shorter)
 * @param rowBlocks     row blocks of the first pass
 * @param panels        weight panels of {@link Tuning#PANEL_WIDTH} columns
 * @param panelsPerTask panels per task (the last run may be shorter)
 * @param panelRuns     runs of panels
 * @param kBlock        k per block ({@link Tuning#K_BLOCK}, or all of k)
 * @param kBlocks       k blocks
 * @param xCopyFloats   floats of each thread's interleaved copy of one row block of x
 */
public record GemmPlan(int m, int k, int n, int threads, int passRows, int tileRows, int rowBlock, int rowBlocks,
        int panels, int panelsPerTask, int panelRuns, int kBlock, int kBlocks, int xCopyFloats) {

    /** The plan of {@link Linear#forward} for this shape and pool size. */
    public static GemmPlan of(int m, int k, int n, int threads) {
        return of(m, k, n, threads, Tuning.X_COPY_FLOATS);
    }

    /**
     * The plan with at most {@code maxXFloats} floats of x per pass ({@link Tuning#X_COPY_FLOATS} in
     * production; tests lower it to reach several passes with small inputs).
     */
    static GemmPlan of(int m, int k, int n, int threads, long maxXFloats) {
        if (m <= 0 || k <= 0 || n <= 0 || threads <= 0 || maxXFloats <= 0) {
            throw new IllegalArgumentException("m, k, n, threads and maxXFloats must be positive, got " + m + ", "
                    + k + ", " + n + ", " + threads + ", " + maxXFloats);
        }
        int rowBlockMax = Tuning.ROW_BLOCK;
        // Passes: whole ROW_BLOCKs of rows, as many as fit in maxXFloats, at least one.
        int passRows = (int) Math.max(rowBlockMax, maxXFloats / k / rowBlockMax * rowBlockMax);
        int passM = Math.min(m, passRows);
        int kBlock = Math.min(k, Tuning.K_BLOCK);
        // Rows per task: at most ROW_BLOCK, and at most X_BLOCK_FLOATS of x per k block; whole tiles.
        int maxRows = Math.max(TILE_ROWS, Math.min(rowBlockMax, Tuning.X_BLOCK_FLOATS / kBlock) / TILE_ROWS * TILE_ROWS);
        int rowBlocks = ceilDiv(passM, maxRows);
        int rowBlock = ceilDiv(ceilDiv(passM, rowBlocks), TILE_ROWS) * TILE_ROWS; // even blocks of whole tiles
        int panels = ceilDiv(n, PANEL_WIDTH);
        int panelsPerTask = panelsPerTask(threads, passM, rowBlocks, panels, (long) rowBlock * k * PANEL_WIDTH);
        int panelRuns = ceilDiv(panels, panelsPerTask);
        int tileRows = passM <= Tuning.SMALL_TILE_MAX_ROWS ? 4 : TILE_ROWS;
        int xCopyFloats = ceilDiv(Math.min(rowBlock, passM), tileRows) * tileRows * k;
        return new GemmPlan(m, k, n, threads, passRows, tileRows, rowBlock, rowBlocks, panels, panelsPerTask,
                panelRuns, kBlock, ceilDiv(k, kBlock), xCopyFloats);
    }

    /**
     * Panels per task. Up to {@link Tuning#STREAMING_ROWS} rows the call is short and bound by reading the
     * weights: about four tasks per thread, so that the caller takes over the work of a worker that wakes up
     * late. Above, as few runs of panels as give every thread the same number of tasks: long runs keep each
     * thread on one contiguous stream of the weights (four tasks per thread were 3-27% slower there on two
     * threads, same-process A/B). Each task is still worth a hand-off ({@link Tuning#MIN_TASK_MACS}).
     */
    private static int panelsPerTask(int threads, int m, int rowBlocks, int panels, long macsPerPanel) {
        if (threads == 1) {
            return panels;
        }
        int minPanels = (int) Math.min(panels, (Tuning.MIN_TASK_MACS + macsPerPanel - 1) / macsPerPanel);
        int maxRuns = Math.max(1, panels / minPanels);
        int wantedTasks = (m <= Tuning.STREAMING_ROWS ? Tuning.STREAMING_TASKS_PER_THREAD : 1) * threads;
        int runs = Math.min(maxRuns, Math.max(1, ceilDiv(wantedTasks, rowBlocks)));
        while (runs * rowBlocks % threads != 0 && runs < maxRuns) {
            runs++;
        }
        return ceilDiv(panels, runs);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Passes over the weights. */
    public int passes() {
        return ceilDiv(m, passRows);
    }

    /** Tasks of the first pass handed to the pool. */
    public int tasks() {
        return rowBlocks * panelRuns;
    }

    /** The plan in a few lines, for tests and {@code bertj bench gemm --plan}. */
    public String describe() {
        return "GEMM plan for m=" + m + " k=" + k + " n=" + n + " on " + threads + " thread(s):\n"
                + "  passes over the weights: " + passes() + " (up to " + passRows + " rows each)\n"
                + "  tasks: " + rowBlocks + " row block(s) of up to " + rowBlock + " rows x " + panelRuns
                + " run(s) of up to " + panelsPerTask + " of " + panels + " panels (" + PANEL_WIDTH
                + " columns each) = " + tasks() + "\n"
                + "  per task: " + kBlocks + " k block(s) of up to " + kBlock + ", tiles of " + tileRows + " x "
                + PANEL_WIDTH + "\n"
                + "  x copy per thread: " + xCopyFloats + " floats (" + (4L * xCopyFloats + 1023) / 1024 + " KB)";
    }
}
