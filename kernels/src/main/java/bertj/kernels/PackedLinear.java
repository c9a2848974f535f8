package bertj.kernels;

import static bertj.kernels.Tuning.K_BLOCK;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Weights of a Linear layer repacked once, at load time, into the panel layout the micro-kernel streams.
 *
 * <p>Hugging Face stores a Linear weight as {@code W[n, k]} (out, in). The packed form cuts N into panels of
 * {@link #PANEL_WIDTH} columns and K into blocks of {@link Tuning#K_BLOCK} (a slice of K_BLOCK x PANEL_WIDTH floats,
 * 384 KB with AVX-512, stays in Zen 5's 1 MB L2 while the tiles of a task read it), and stores each (block, panel) slice
 * k-major, block by block: {@code packed[kBlock][panel][k][PANEL_WIDTH]}. One k step of the kernel reads two
 * consecutive vectors, and a task that computes a run of panels for one k block reads one contiguous
 * range. The last panel is padded with zero columns. Several
 * weights sharing k (query, key, value) can be packed as one, concatenated along N, and one
 * {@link Linear#forward} then computes the fused projection.
 *
 * <p>The packed weights live off-heap in the caller's arena, which must be usable from the pool's threads
 * ({@link Arena#ofShared()}, {@link Arena#global()} or {@link Arena#ofAuto()}). The bias is small and kept on
 * the heap, padded to whole panels.
 */
public final class PackedLinear {
    /** Columns per panel: two vectors of the kernels' species ({@link Tuning#PANEL_WIDTH}). */
    public static final int PANEL_WIDTH = Tuning.PANEL_WIDTH;

    private static final ValueLayout.OfFloat FLOAT_ANY_ALIGNMENT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final int n;
    private final int k;
    private final int panels;
    private final MemorySegment packed;
    private final float[] bias;

    private PackedLinear(int n, int k, MemorySegment packed, float[] bias) {
        this.n = n;
        this.k = k;
        this.panels = panelCount(n);
        this.packed = packed;
        this.bias = bias;
    }

    /**
     * Packs one weight.
     *
     * @param weight {@code [n, k]} F32, row-major, any alignment (a read-only mapped file is fine)
     * @param bias   {@code [n]} F32, or null
     */
    public static PackedLinear pack(MemorySegment weight, MemorySegment bias, int n, int k, Arena arena) {
        return pack(weight, bias, n, k, arena, null);
    }

    /** {@link #pack(MemorySegment, MemorySegment, int, int, Arena)}, transposing panels on the pool's threads. */
    public static PackedLinear pack(MemorySegment weight, MemorySegment bias, int n, int k, Arena arena,
            ThreadPool pool) {
        requirePositive("n", n);
        requirePositive("k", k);
        if (weight == null) {
            throw new IllegalArgumentException("weight must not be null");
        }
        if (weight.byteSize() != 4L * n * k) {
            throw new IllegalArgumentException("weight has " + weight.byteSize() + " bytes, expected [" + n + ", "
                    + k + "] F32 = " + 4L * n * k + " bytes");
        }
        return pack(new MemorySegment[] {weight}, new MemorySegment[] {bias}, k, arena, pool);
    }

    /**
     * Packs several weights that share {@code k} as one, concatenated along N (for example query, key and
     * value into a fused QKV projection of {@code n = 3 * hidden}). Each part's n is its byte size / (4 k).
     *
     * @param weights each {@code [n_i, k]} F32, row-major, any alignment
     * @param biases  null, or one entry per weight: {@code [n_i]} F32 or null (no bias for that part)
     */
    public static PackedLinear pack(MemorySegment[] weights, MemorySegment[] biases, int k, Arena arena) {
        return pack(weights, biases, k, arena, null);
    }

    /**
     * {@link #pack(MemorySegment[], MemorySegment[], int, Arena)}, transposing panels on the pool's threads
     * (null: on the caller only). Packing streams the weights at memory speed; a second core nearly halves it.
     */
    public static PackedLinear pack(MemorySegment[] weights, MemorySegment[] biases, int k, Arena arena,
            ThreadPool pool) {
        requirePositive("k", k);
        if (weights == null || weights.length == 0) {
            throw new IllegalArgumentException("weights must hold at least one weight");
        }
        if (biases != null && biases.length != weights.length) {
            throw new IllegalArgumentException("biases has " + biases.length + " entries for " + weights.length
                    + " weights");
        }
        if (arena == null) {
            throw new IllegalArgumentException("arena must not be null");
        }
        int[] partRows = new int[weights.length];
        long totalRows = 0;
        for (int i = 0; i < weights.length; i++) {
            MemorySegment w = weights[i];
            if (w == null) {
                throw new IllegalArgumentException("weights[" + i + "] is null");
            }
            if (w.byteSize() == 0 || w.byteSize() % (4L * k) != 0) {
                throw new IllegalArgumentException("weights[" + i + "] has " + w.byteSize()
                        + " bytes, not a whole number of F32 rows of k = " + k);
            }
            long rows = w.byteSize() / (4L * k);
            MemorySegment b = biases == null ? null : biases[i];
            if (b != null && b.byteSize() != 4L * rows) {
                throw new IllegalArgumentException("biases[" + i + "] has " + b.byteSize() + " bytes, expected ["
                        + rows + "] F32 = " + 4L * rows + " bytes");
            }
            partRows[i] = (int) Math.min(rows, Integer.MAX_VALUE);
            totalRows += rows;
        }
        if (totalRows * k > Integer.MAX_VALUE - (long) PANEL_WIDTH * k) {
            throw new IllegalArgumentException("weights of " + totalRows + " x " + k + " are too large to pack");
        }
        int n = (int) totalRows;
        int panels = panelCount(n);
        MemorySegment packed = arena.allocate(4L * panels * PANEL_WIDTH * k, 64);
        if (!packed.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("arena is confined to one thread; the pool's threads must read the "
                    + "packed weights: use Arena.ofShared(), Arena.global() or Arena.ofAuto()");
        }

        // Row r of the concatenation is row (r - partStart[i]) of weights[i].
        MemorySegment[] rowSource = new MemorySegment[n];
        long[] rowOffset = new long[n];
        for (int i = 0, r = 0; i < weights.length; i++) {
            for (int j = 0; j < partRows[i]; j++, r++) {
                rowSource[r] = weights[i];
                rowOffset[r] = 4L * j * k;
            }
        }
        float[] bias = concatenatedBias(partRows, biases, panels);

        int chunks = (panels + Tuning.PACK_PANELS_PER_TASK - 1) / Tuning.PACK_PANELS_PER_TASK;
        IntConsumer packChunk = chunk -> transposePanels(rowSource, rowOffset, n, k, panels, packed,
                chunk * Tuning.PACK_PANELS_PER_TASK, Math.min(panels, (chunk + 1) * Tuning.PACK_PANELS_PER_TASK));
        if (pool == null) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                packChunk.accept(chunk);
            }
        } else {
            pool.parallelFor(chunks, packChunk);
        }
        return new PackedLinear(n, k, packed, bias);
    }

    /**
     * Weights already in the packed layout (for example a slice of a mapped file written from
     * {@link #packedData()} by a build with the same {@link #layout()}), with their biases as {@link #pack} takes
     * them.
     *
     * @param packed   {@link #packedBytes} bytes, read in place; must stay valid while this object is used
     * @param partRows n of each concatenated part
     * @param biases   null, or one entry per part: {@code [partRows[i]]} F32 or null
     */
    public static PackedLinear ofPacked(MemorySegment packed, int k, int[] partRows, MemorySegment[] biases) {
        requirePositive("k", k);
        if (partRows == null || partRows.length == 0 || (biases != null && biases.length != partRows.length)) {
            throw new IllegalArgumentException("give one part row count per part, and null biases or one per part");
        }
        long n = 0;
        for (int i = 0; i < partRows.length; i++) {
            requirePositive("partRows[" + i + "]", partRows[i]);
            n += partRows[i];
            MemorySegment b = biases == null ? null : biases[i];
            if (b != null && b.byteSize() != 4L * partRows[i]) {
                throw new IllegalArgumentException("biases[" + i + "] has " + b.byteSize() + " bytes, expected ["
                        + partRows[i] + "] F32");
            }
        }
        if (n * k > Integer.MAX_VALUE - (long) PANEL_WIDTH * k) {
            throw new IllegalArgumentException("weights of " + n + " x " + k + " are too large");
        }
        if (packed == null || packed.byteSize() != packedBytes((int) n, k)) {
            throw new IllegalArgumentException("packed weights have " + (packed == null ? 0 : packed.byteSize())
                    + " bytes, expected " + packedBytes((int) n, k) + " for n = " + n + ", k = " + k);
        }
        if (!packed.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("packed weights are confined to one thread; the pool's threads must "
                    + "read them");
        }
        float[] bias = concatenatedBias(partRows, biases, panelCount((int) n));
        return new PackedLinear((int) n, k, packed, bias);
    }

    /** Bytes of the packed form of an {@code n x k} weight. */
    public static long packedBytes(int n, int k) {
        return 4L * panelCount(n) * PANEL_WIDTH * k;
    }

    /**
     * Names the packed layout: packed data is only valid for a build whose layout string is the same (it
     * depends on the vector width).
     */
    public static String layout() {
        return "bertj-panels-1 width=" + PANEL_WIDTH + " kblock=" + K_BLOCK;
    }

    /** The packed weights ({@link #packedBytes} bytes in the {@link #layout()}), read-only. */
    public MemorySegment packedData() {
        return packed.asReadOnly();
    }

    /** The parts' biases, concatenated and padded to whole panels with zeros. */
    private static float[] concatenatedBias(int[] partRows, MemorySegment[] biases, int panels) {
        float[] bias = new float[panels * PANEL_WIDTH];
        for (int i = 0, r = 0; i < partRows.length; r += partRows[i], i++) {
            MemorySegment b = biases == null ? null : biases[i];
            if (b != null) {
                MemorySegment.copy(b, FLOAT_ANY_ALIGNMENT, 0, bias, r, partRows[i]);
            }
        }
        return bias;
    }

    /**
     * Writes panels {@code [p0, p1)}: each one's rows are bulk-copied to a heap buffer, transposed there
     * (cache-resident) and bulk-copied out.
     */
    private static void transposePanels(MemorySegment[] rowSource, long[] rowOffset, int n, int k, int panels,
            MemorySegment packed, int p0, int p1) {
        float[] rows = new float[PANEL_WIDTH * k];
        float[] panel = new float[PANEL_WIDTH * k];
        for (int p = p0; p < p1; p++) {
            int first = p * PANEL_WIDTH;
            int width = Math.min(PANEL_WIDTH, n - first);
            for (int c = 0; c < width; c++) {
                MemorySegment.copy(rowSource[first + c], FLOAT_ANY_ALIGNMENT, rowOffset[first + c], rows, c * k, k);
            }
            if (width < PANEL_WIDTH) {
                Arrays.fill(panel, 0f);
            }
            // Sequential writes; the PANEL_WIDTH source rows being read stay in L1 for PANEL_WIDTH consecutive kk.
            for (int kk = 0, at = 0; kk < k; kk++, at += PANEL_WIDTH) {
                for (int c = 0, src = kk; c < width; c++, src += k) {
                    panel[at + c] = rows[src];
                }
            }
            for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
                int kLen = Math.min(K_BLOCK, k - k0);
                MemorySegment.copy(panel, k0 * PANEL_WIDTH, packed, ValueLayout.JAVA_FLOAT, sliceOffset(k0, kLen, panels, p),
                        kLen * PANEL_WIDTH);
            }
        }
    }

    /** A thread that never runs: segments accessible by it are accessible by any thread. */
    private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> {});

    private static int panelCount(int n) {
        return (n + PANEL_WIDTH - 1) / PANEL_WIDTH;
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** Output features (rows of the Hugging Face weight, summed over the packed parts). */
    public int n() {
        return n;
    }

    /** Input features. */
    public int k() {
        return k;
    }

    int panels() {
        return panels;
    }

    /** {@code [kBlock][panel][k in block][PANEL_WIDTH]} F32. */
    MemorySegment packed() {
        return packed;
    }

    /** Byte offset in {@link #packed()} of panel p's slice of the k block starting at k0. */
    long sliceOffset(int k0, int p) {
        return sliceOffset(k0, Math.min(K_BLOCK, k - k0), panels, p);
    }

    private static long sliceOffset(int k0, int kLen, int panels, int p) {
        return 4L * PANEL_WIDTH * ((long) k0 * panels + (long) p * kLen);
    }

    /** {@code [panels * PANEL_WIDTH]}, zero where a part has no bias and in the padding. */
    float[] bias() {
        return bias;
    }

    @Override
    public String toString() {
        return "PackedLinear[n=" + n + ", k=" + k + ", panels=" + panels + " x " + PANEL_WIDTH + "]";
    }
}
