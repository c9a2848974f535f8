package bertj.kernels;

import static bertj.kernels.Tuning.PANEL_WIDTH;
import static bertj.kernels.VectorSupport.FLOATS;
import static bertj.kernels.VectorSupport.LANES;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widens one packed slice of int8 or float16 weights ({@code [kLen][PANEL_WIDTH]}, in the layout {@link PackedLinear}
 * describes) to float32, into a small native buffer that the Linear's float32 tiles then read as they read
 * float32 weights.
 *
 * <p>For int8 weights and many rows of x (and an odd k): the widening is paid once per slice and shared by all
 * the task's tiles, which run the unchanged float32 kernel at its full speed on a buffer that stays in L1/L2 (at
 * most {@link Tuning#K_BLOCK} x PANEL_WIDTH floats), a native segment like the packed weights (see {@link
 * GemmKernel}). Otherwise the tiles widen in their own loop ({@link ReducedGemmKernel}).
 *
 * <p>Every step works on 32-bit lanes: a shift left and an arithmetic shift right (the byte sign-extended), a
 * conversion to float32 and a multiply by the column's scale. A first version read the values with 8- and
 * 16-bit vectors and widened them with {@code convertShape}, much slower on C2. The results are exactly the
 * floats of {@link bertj.kernels.reference.WeightRounding}, whose loop in {@link PackedLinear#sliceAsFloats} is
 * the scalar twin.
 */
final class WeightWidening {
    /** The packed layout is little-endian (the lowest byte of an int is the first weight). */
    private static final ByteOrder LAYOUT_ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);

    private WeightWidening() {}

    /** Panel p's slice of the k block from k0 of int8 or float16 weights as float32 into {@code out} at byte 0, {@code [kLen][PANEL_WIDTH]}. */
    static void widen(PackedLinear w, int k0, int p, MemorySegment out) {
        int kLen = Math.min(Tuning.K_BLOCK, w.k() - k0);
        switch (w.precision()) {
            case INT8 -> int8(w.packed(), w.sliceOffset(k0, p), kLen, w.scales(), p * PANEL_WIDTH, out);
            case F16 -> f16(w.packed(), w.sliceOffset(k0, p), kLen, out);
            default -> throw new IllegalArgumentException("widens int8 or float16 weights, not " + w.precision().label());
        }
    }

    /**
     * {@code kLen} rows of float16 from byte {@code from} of src, in bfloat16's layout (one int per column pair c and
     * c + PANEL_WIDTH / 2: c in the low half): one int vector per row.
     */
    static void f16(MemorySegment src, long from, int kLen, MemorySegment out) {
        for (int k = 0; k < kLen; k++) {
            IntVector pairs = IntVector.fromMemorySegment(INTS, src, from + 2L * PANEL_WIDTH * k, LAYOUT_ORDER);
            long row = 4L * PANEL_WIDTH * k;
            halfToFloat(pairs.and(0xFFFF)).intoMemorySegment(out, row, ORDER);
            halfToFloat(pairs.lanewise(VectorOperators.LSHR, 16)).intoMemorySegment(out, row + 4L * LANES, ORDER);
        }
    }

    /**
     * float16 bits (in the low half of each lane) as float32, as {@link Float#float16ToFloat} gives them: the
     * Vector API has no such conversion. Exponent and mantissa shifted into float32's places and multiplied by
     * 2^112 (the difference of the biases, 127 - 15), which is exact and also takes a subnormal float16 to its
     * normal float32; an all-ones exponent (infinity, NaN) gets float32's all-ones exponent instead; then the sign.
     */
    private static FloatVector halfToFloat(IntVector half) {
        IntVector magnitude = half.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        FloatVector finite = shifted.reinterpretAsFloats().mul(0x1p112f);
        FloatVector special = shifted.or(0x7000_0000).reinterpretAsFloats();
        FloatVector unsigned = finite.blend(special, magnitude.compare(VectorOperators.GE, 0x7C00).cast(FLOATS));
        return unsigned.reinterpretAsInts().or(half.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /**
     * {@code kLen} rows of int8 from byte {@code from} of src, row k column c times {@code scales[scaleFrom + c]}:
     * one int vector per pair of rows (an odd kLen's last pair also writes the row after it, which out must have).
     */
    static void int8(MemorySegment src, long from, int kLen, float[] scales, int scaleFrom, MemorySegment out) {
        FloatVector scaleLo = FloatVector.fromArray(FLOATS, scales, scaleFrom);
        FloatVector scaleHi = FloatVector.fromArray(FLOATS, scales, scaleFrom + LANES);
        for (int k = 0; k < kLen; k += 2) {
            IntVector bytes = IntVector.fromMemorySegment(INTS, src, from + (long) PANEL_WIDTH * k, LAYOUT_ORDER);
            long row = 4L * PANEL_WIDTH * k;
            widened(bytes, 24, scaleLo).intoMemorySegment(out, row, ORDER);
            widened(bytes, 16, scaleHi).intoMemorySegment(out, row + 4L * LANES, ORDER);
            widened(bytes, 8, scaleLo).intoMemorySegment(out, row + 4L * PANEL_WIDTH, ORDER);
            widened(bytes, 0, scaleHi).intoMemorySegment(out, row + 4L * (PANEL_WIDTH + LANES), ORDER);
        }
    }

    /** The byte that a left shift by {@code shift} puts on top of each lane, sign-extended, as float, times scale. */
    private static FloatVector widened(IntVector bytes, int shift, FloatVector scale) {
        return ((FloatVector) bytes.lanewise(VectorOperators.LSHL, shift).lanewise(VectorOperators.ASHR, 24)
                .convert(VectorOperators.I2F, 0)).mul(scale);
    }
}
