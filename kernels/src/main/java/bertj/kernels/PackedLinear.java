package bertj.kernels;

import static bertj.kernels.Tuning.K_BLOCK;

import bertj.kernels.reference.WeightRounding;
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
 * <p>The weights are stored in one {@link Precision}: float32, or rounded to bfloat16 or int8 as {@link
 * WeightRounding} defines. The Linear widens a reduced-precision slice back to float32 before its tiles read it
 * ({@link WeightWidening}), and the layout is chosen so that the widening needs only 32-bit lanes: shifts, a
 * mask and a conversion, no lane-changing instruction. With L = PANEL_WIDTH / 2 (one vector of floats):
 * <pre>
 * bf16, one k:        int i (i &lt; L) = column i (low 16 bits) | column i + L (high 16 bits)
 * int8, two k, k + 1: int i (i &lt; L) = bytes [k, col i] [k, col i + L] [k + 1, col i] [k + 1, col i + L]
 * </pre>
 * so one vector of ints widens to the two vectors of a k row (bf16: {@code v << 16} and {@code v & 0xffff0000})
 * or to the four of two rows (int8: each byte shifted to the top and arithmetically back). An int8 slice with
 * an odd number of k has a row of zeros after its last. int8 packed data ends with the float32 scale of each
 * column, {@code [panels * PANEL_WIDTH]}, zero in the padding. {@link #sliceAsFloats} is the scalar twin of the
 * widening.
 *
 * <p>The packed weights live off-heap in the caller's arena, which must be usable from the pool's threads
 * ({@link Arena#ofShared()}, {@link Arena#global()} or {@link Arena#ofAuto()}). The bias is small and kept on
 * the heap, padded to whole panels.
 */
public final class PackedLinear {
    /** Columns per panel: two vectors of the kernels' species ({@link Tuning#PANEL_WIDTH}). */
    public static final int PANEL_WIDTH = Tuning.PANEL_WIDTH;

    private static final ValueLayout.OfFloat FLOAT_ANY_ALIGNMENT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** bfloat16 bits, little-endian like the int lanes the widening reads them in, whatever the platform. */
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final int n;
    private final int k;
    private final int panels;
    private final Precision precision;
    private final MemorySegment packed;
    private final float[] bias;
    /** INT8: each column's scale, {@code [panels * PANEL_WIDTH]}; otherwise null. */
    private final float[] scales;

    private PackedLinear(int n, int k, Precision precision, MemorySegment packed, float[] bias, float[] scales) {
        this.n = n;
        this.k = k;
        this.panels = panelCount(n);
        this.precision = precision;
        this.packed = packed;
        this.bias = bias;
        this.scales = scales;
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
        return pack(weights, biases, k, arena, pool, Precision.FP32);
    }

    /**
     * {@link #pack(MemorySegment[], MemorySegment[], int, Arena, ThreadPool)}, the weights rounded to {@code
     * precision} ({@link WeightRounding}). int8 needs finite weights.
     */
    public static PackedLinear pack(MemorySegment[] weights, MemorySegment[] biases, int k, Arena arena,
            ThreadPool pool, Precision precision) {
        return pack(weights, biases, k, arena, pool, precision, null);
    }

    /**
     * {@link #pack(MemorySegment[], MemorySegment[], int, Arena, ThreadPool, Precision)} with int8 scales given for
     * some parts ({@code int8Scales[i]}, one per row of weights[i], or null to compute them): for weights that
     * were quantized already and are given as {@code q * scale}, so that packing them gives back q and scale
     * exactly. Ignored in other precisions.
     */
    public static PackedLinear pack(MemorySegment[] weights, MemorySegment[] biases, int k, Arena arena,
            ThreadPool pool, Precision precision, float[][] int8Scales) {
        requirePositive("k", k);
        if (precision == null) {
            throw new IllegalArgumentException("precision must not be null");
        }
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
        MemorySegment packed = arena.allocate(packedBytes(n, k, precision), 64);
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
        float[] scales = precision == Precision.INT8 ? new float[panels * PANEL_WIDTH] : null;
        boolean[] scaleGiven = new boolean[n];
        if (scales != null && int8Scales != null) {
            if (int8Scales.length != weights.length) {
                throw new IllegalArgumentException("int8Scales has " + int8Scales.length + " entries for "
                        + weights.length + " weights");
            }
            for (int i = 0, r = 0; i < weights.length; r += partRows[i], i++) {
                if (int8Scales[i] == null) continue;
                if (int8Scales[i].length != partRows[i]) {
                    throw new IllegalArgumentException("int8Scales[" + i + "] has " + int8Scales[i].length
                            + " scales for " + partRows[i] + " rows");
                }
                System.arraycopy(int8Scales[i], 0, scales, r, partRows[i]);
                Arrays.fill(scaleGiven, r, r + partRows[i], true);
            }
        }

        int chunks = (panels + Tuning.PACK_PANELS_PER_TASK - 1) / Tuning.PACK_PANELS_PER_TASK;
        IntConsumer packChunk = chunk -> transposePanels(rowSource, rowOffset, n, k, panels, packed, precision,
                scales, scaleGiven, chunk * Tuning.PACK_PANELS_PER_TASK,
                Math.min(panels, (chunk + 1) * Tuning.PACK_PANELS_PER_TASK));
        if (pool == null) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                packChunk.accept(chunk);
            }
        } else {
            pool.parallelFor(chunks, packChunk);
        }
        if (scales != null) {
            MemorySegment.copy(scales, 0, packed, FLOAT_ANY_ALIGNMENT, scalesOffset(n, k), scales.length);
        }
        return new PackedLinear(n, k, precision, packed, bias, scales);
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
        return ofPacked(packed, k, partRows, biases, Precision.FP32);
    }

    /** {@link #ofPacked(MemorySegment, int, int[], MemorySegment[])} of weights packed in {@code precision}. */
    public static PackedLinear ofPacked(MemorySegment packed, int k, int[] partRows, MemorySegment[] biases,
            Precision precision) {
        requirePositive("k", k);
        if (precision == null) {
            throw new IllegalArgumentException("precision must not be null");
        }
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
        if (packed == null || packed.byteSize() != packedBytes((int) n, k, precision)) {
            throw new IllegalArgumentException("packed weights have " + (packed == null ? 0 : packed.byteSize())
                    + " bytes, expected " + packedBytes((int) n, k, precision) + " for n = " + n + ", k = " + k
                    + " in " + precision.label());
        }
        if (!packed.isAccessibleBy(OTHER_THREAD)) {
            throw new IllegalArgumentException("packed weights are confined to one thread; the pool's threads must "
                    + "read them");
        }
        float[] bias = concatenatedBias(partRows, biases, panelCount((int) n));
        float[] scales = null;
        if (precision == Precision.INT8) {
            scales = new float[panelCount((int) n) * PANEL_WIDTH];
            MemorySegment.copy(packed, FLOAT_ANY_ALIGNMENT, scalesOffset((int) n, k), scales, 0, scales.length);
        }
        return new PackedLinear((int) n, k, precision, packed, bias, scales);
    }

    /** Bytes of the float32 packed form of an {@code n x k} weight. */
    public static long packedBytes(int n, int k) {
        return packedBytes(n, k, Precision.FP32);
    }

    /** Bytes of the packed form of an {@code n x k} weight in {@code precision}, int8's scales included. */
    public static long packedBytes(int n, int k, Precision precision) {
        long weights = (long) precision.bytesPerWeight() * panelCount(n) * PANEL_WIDTH * storedRows(k, precision);
        return precision == Precision.INT8 ? weights + 4L * panelCount(n) * PANEL_WIDTH : weights;
    }

    /** Rows of k stored for {@code k} (int8 pairs them, so an odd count gets a row of zeros). */
    private static int storedRows(int k, Precision precision) {
        return precision == Precision.INT8 ? (k + 1) & ~1 : k;
    }

    private static long scalesOffset(int n, int k) {
        return (long) panelCount(n) * PANEL_WIDTH * storedRows(k, Precision.INT8);
    }

    /**
     * Names the float32 packed layout: packed data is only valid for a build whose layout string is the same
     * (it depends on the vector width).
     */
    public static String layout() {
        return "bertj-panels-1 width=" + PANEL_WIDTH + " kblock=" + K_BLOCK;
    }

    /** {@link #layout()} of weights packed in {@code precision}. */
    public static String layout(Precision precision) {
        return switch (precision) {
            case FP32 -> layout();
            case BF16 -> layout() + " bf16-pairs-1";
            case INT8 -> layout() + " int8-quads-1";
            case F16 -> layout() + " f16-pairs-1";
        };
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
     * (cache-resident), rounded to the precision and bulk-copied out. int8 also writes the columns' scales.
     */
    private static void transposePanels(MemorySegment[] rowSource, long[] rowOffset, int n, int k, int panels,
            MemorySegment packed, Precision precision, float[] scales, boolean[] scaleGiven, int p0, int p1) {
        float[] rows = new float[PANEL_WIDTH * k];
        float[] panel = new float[PANEL_WIDTH * k];
        for (int p = p0; p < p1; p++) {
            int first = p * PANEL_WIDTH;
            int width = Math.min(PANEL_WIDTH, n - first);
            for (int c = 0; c < width; c++) {
                MemorySegment.copy(rowSource[first + c], FLOAT_ANY_ALIGNMENT, rowOffset[first + c], rows, c * k, k);
                if (scales != null && !scaleGiven[first + c]) {
                    scales[first + c] = WeightRounding.int8Scale(rows, c * k, (c + 1) * k);
                    if (!Float.isFinite(scales[first + c])) {
                        throw new IllegalArgumentException("weight row " + (first + c)
                                + " holds a weight that is not finite: int8 needs finite weights");
                    }
                }
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
                long offset = sliceOffset(k0, kLen, panels, p, precision);
                int from = k0 * PANEL_WIDTH, count = kLen * PANEL_WIDTH;
                switch (precision) {
                    case FP32 -> MemorySegment.copy(panel, from, packed, ValueLayout.JAVA_FLOAT, offset, count);
                    case BF16 -> {
                        short[] bits = new short[count];
                        for (int i = 0; i < count; i++) {
                            bits[bf16Index(i)] = WeightRounding.toBf16(panel[from + i]);
                        }
                        MemorySegment.copy(bits, 0, packed, SHORT_LE, offset, count);
                    }
                    case F16 -> { // bf16's layout, with float16 bits
                        short[] bits = new short[count];
                        for (int i = 0; i < count; i++) {
                            bits[bf16Index(i)] = WeightRounding.toF16(panel[from + i]);
                        }
                        MemorySegment.copy(bits, 0, packed, SHORT_LE, offset, count);
                    }
                    case INT8 -> {
                        byte[] q = new byte[storedRows(kLen, precision) * PANEL_WIDTH];
                        for (int i = 0; i < count; i++) {
                            q[int8Index(i)] = WeightRounding.toInt8(panel[from + i], scales[first + i % PANEL_WIDTH]);
                        }
                        MemorySegment.copy(q, 0, packed, ValueLayout.JAVA_BYTE, offset, q.length);
                    }
                }
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

    /** How the weights are stored. */
    public Precision precision() {
        return precision;
    }

    /** {@code [kBlock][panel][k in block][PANEL_WIDTH]} in the {@link #precision()}, then int8's scales. */
    MemorySegment packed() {
        return packed;
    }

    /** INT8: the scale of each column, {@code [panels * PANEL_WIDTH]}; otherwise null. */
    float[] scales() {
        return scales;
    }

    /** Byte offset in {@link #packed()} of panel p's slice of the k block starting at k0. */
    long sliceOffset(int k0, int p) {
        return sliceOffset(k0, Math.min(K_BLOCK, k - k0), panels, p, precision);
    }

    private static long sliceOffset(int k0, int kLen, int panels, int p, Precision precision) {
        return (long) precision.bytesPerWeight() * PANEL_WIDTH * ((long) k0 * panels + (long) p * storedRows(kLen, precision));
    }

    /** Where weight i of a slice ({@code i = k * PANEL_WIDTH + column}) is stored in the bf16 layout, in shorts. */
    static int bf16Index(int i) {
        int row = i / PANEL_WIDTH, column = i % PANEL_WIDTH, half = PANEL_WIDTH / 2;
        return row * PANEL_WIDTH + 2 * (column % half) + column / half;
    }

    /** Where weight i of a slice is stored in the int8 layout, in bytes. */
    static int int8Index(int i) {
        int row = i / PANEL_WIDTH, column = i % PANEL_WIDTH, half = PANEL_WIDTH / 2;
        return (row & ~1) * PANEL_WIDTH + 4 * (column % half) + 2 * (row & 1) + column / half;
    }

    /**
     * Panel p's slice of the k block from k0 as float32, {@code [kLen][PANEL_WIDTH]} into {@code out}: one value
     * at a time, the scalar twin of the Linear's widening ({@link WeightWidening}).
     */
    void sliceAsFloats(int k0, int p, float[] out) {
        int count = Math.min(K_BLOCK, k - k0) * PANEL_WIDTH;
        long offset = sliceOffset(k0, p);
        switch (precision) {
            case FP32 -> MemorySegment.copy(packed, FLOAT_ANY_ALIGNMENT, offset, out, 0, count);
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = WeightRounding.fromBf16(packed.get(SHORT_LE, offset + 2L * bf16Index(i)));
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = WeightRounding.fromF16(packed.get(SHORT_LE, offset + 2L * bf16Index(i)));
                }
            }
            case INT8 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = WeightRounding.fromInt8(packed.get(ValueLayout.JAVA_BYTE, offset + int8Index(i)),
                            scales[p * PANEL_WIDTH + i % PANEL_WIDTH]);
                }
            }
        }
    }

    /** {@code [panels * PANEL_WIDTH]}, zero where a part has no bias and in the padding. */
    float[] bias() {
        return bias;
    }

    @Override
    public String toString() {
        return "PackedLinear[n=" + n + ", k=" + k + ", panels=" + panels + " x " + PANEL_WIDTH + ", "
                + precision.label() + "]";
    }
}
