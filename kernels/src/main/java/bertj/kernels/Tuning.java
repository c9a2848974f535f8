package bertj.kernels;

/**
 * Every tuning constant of the kernels, in one place and apart from the math: sizes of tiles, blocks and
 * tasks, and the thread pool's wait times. None of them changes a result bit (each output of the GEMM is
 * one chain of FMAs over k in order, whatever the blocking and the threads); they only change the speed.
 * Each one says in a line why it has its value; the measurements behind them are in
 * {@code kernels/BENCHMARKS.md}, under the topic named in brackets.
 *
 * <p>How {@link Linear} combines the GEMM's constants for one call is a {@link GemmPlan}.
 */
public final class Tuning {
    private Tuning() {}

    // ---- The micro-kernel's tile, shared by the Linear (GemmKernel) and attention -------------------

    /**
     * Rows of x per micro-kernel tile, in the Linear ({@link GemmKernel}) and in attention (queries per
     * tile): 8 with AVX-512's 32 registers (16 accumulators hide the FMA latency), 4 with the 16 registers
     * of narrower vectors, where 8 x 2 spills. [The Linear kernel / Tile shape]
     */
    static final int TILE_ROWS = VectorSupport.LANES >= 16 ? 8 : 4;

    /**
     * Columns per tile: the width of a packed weight panel, of attention's K^T and V panels, two vectors
     * (each pair of loads feeds 2 x TILE_ROWS FMAs). [The Linear kernel / Tile shape]
     */
    static final int PANEL_WIDTH = 2 * VectorSupport.LANES;

    /**
     * Rows of x at and below which a Linear uses 4-row tiles: an 8-row tile of mostly padding costs as much
     * arithmetic as reading the weights (m = 1 ran at half MLAS's speed). [The Linear kernel / Tile shape]
     */
    static final int SMALL_TILE_MAX_ROWS = 4;

    // ---- The GEMM's blocking (Linear, PackedLinear; see GemmPlan) ----------------------------------

    /**
     * Rows of k per packed slice: a slice (384 KB with AVX-512) stays in Zen 5's 1 MB L2 while a task's tiles
     * read it; whole k up to 3072 (bert-base's down-projection) in one block, 2-4% faster forwards than 1024
     * (each further block stores and reloads y); 256 was 15-20% slower at k = 768. Part of the packed layout's name.
     * [The Linear kernel / k blocks]
     */
    static final int K_BLOCK = 3072;

    /**
     * Most rows per Linear task: each panel slice comes from DRAM for the task's first tile and from cache
     * for the others, so more rows per task hide more of that first fetch. [The Linear kernel / Rows per
     * task, and the interleave of x]
     */
    static final int ROW_BLOCK = 1024;

    /**
     * Most floats of x per task and k block (2 MB, twice Zen 5's L2): 2-3% faster forwards than 512 KB at
     * 512-1024 rows. [The Linear kernel / Rows per task, and the interleave of x]
     */
    static final int X_BLOCK_FLOATS = 1 << 19;

    /**
     * Most floats of x per pass over the weights (64 MB); longer inputs go in chunks of rows, so that the
     * per-thread copies of x stay bounded. {@link GemmPlan#of(int, int, int, int, long)} takes another value
     * (tests make it small to reach the chunking with small inputs).
     */
    static final long X_COPY_FLOATS = 1L << 24;

    /**
     * Up to this many rows a Linear is bound by reading its weights: its tasks split N, about four per thread,
     * so that the caller takes over from a worker that wakes up late (one per thread was 8-12% slower at 8
     * tokens). [The Linear kernel / Two threads]
     */
    static final int STREAMING_ROWS = 16;

    /**
     * Most rows of a Linear task whose int8 weights are widened inside the tiles' loop; above, each slice is
     * widened once into a buffer that the float32 tiles read (bf16 weights are always widened in the tiles: a
     * shift and a mask per k cost less than the buffer at every size measured). At 32 rows in the tiles was
     * 13% faster, at 64 rows the buffer 7%. [Reduced precision / Widening]
     */
    static final int INT8_IN_TILES_MAX_ROWS = 32;

    /** Tasks per thread up to {@link #STREAMING_ROWS} rows (see there); above, one long run of panels each. */
    static final int STREAMING_TASKS_PER_THREAD = 4;

    /** Least work of a Linear task worth a hand-off to another thread, in multiply-adds. */
    static final long MIN_TASK_MACS = 1L << 16;

    /** Weight panels per packing task ({@link PackedLinear#pack}); packing streams at memory speed. */
    static final int PACK_PANELS_PER_TASK = 8;

    // ---- Attention, LayerNorm ----------------------------------------------------------------------

    /**
     * Attention splits each sequence's heads into groups until the pool has at least this many tasks per
     * thread, so that a short batch still uses every core. [Real workloads / Corpus: attention by head groups]
     */
    static final int ATTENTION_TASKS_PER_THREAD = 2;

    /** Rows of a LayerNorm per pool task: a row of 384-768 floats is too little work for a hand-off. */
    static final int NORM_ROWS_PER_TASK = 16;

    // ---- The thread pool ----------------------------------------------------------------------------

    /**
     * How long an idle worker (or a waiting caller) spins before it starts yielding its core: the kernels of
     * one forward pass follow each other within microseconds. (Not measured in BENCHMARKS.md.)
     */
    static final long SPIN_NANOS = 20_000;

    /** How long it waits, spinning then yielding (in case the machine is oversubscribed), before parking. */
    static final long WAIT_NANOS = 200_000;
}
