package bertj.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that chooses the vector width of every kernel.
 *
 * <p>By default the kernels use {@link FloatVector#SPECIES_PREFERRED} (AVX2: 8 floats, AVX-512: 16). The
 * system property {@code bertj.vectorBits} (128, 256 or 512) forces a width so that tests can run every
 * code path on one machine; a width wider than the hardware's works but is emulated and slow. The choice
 * is made once, when this class initialises, because the species must be a constant for C2 to compile
 * the kernels to plain SIMD instructions.
 */
public final class VectorSupport {
    /** The property that forces the vector width in bits. */
    public static final String VECTOR_BITS_PROPERTY = "bertj.vectorBits";

    /** Float species used by every kernel. */
    static final VectorSpecies<Float> FLOATS = chooseSpecies();
    /** Floats per vector. */
    static final int LANES = FLOATS.length();
    private VectorSupport() {}

    private static VectorSpecies<Float> chooseSpecies() {
        String forced = System.getProperty(VECTOR_BITS_PROPERTY);
        if (forced == null || forced.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (forced.strip()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException(
                    "system property " + VECTOR_BITS_PROPERTY + " must be 128, 256 or 512, got '" + forced + "'");
        };
    }

    /**
     * The sum of a vector's lanes, stored to {@code lanes[0 .. LANES)} by the caller, added one by one in lane
     * order. {@code reduceLanes(ADD)} leaves the order unspecified, and the JIT-compiled and interpreted forms
     * do differ, so the same call could round differently before and after warm-up; results must not depend on
     * that. The caller stores the vector itself: {@code lane(i)} with a variable i, or a vector passed to a
     * method C2 does not inline (it is boxed), cost a third of a short softmax row's time.
     */
    static float sumInLaneOrder(float[] lanes) {
        float sum = 0;
        for (int i = 0; i < LANES; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    /** Number of float lanes in the kernels' vectors. */
    public static int floatLanes() {
        return LANES;
    }

    /** Vector width used by the kernels, in bits. */
    public static int vectorBits() {
        return FLOATS.vectorBitSize();
    }

    /**
     * One line saying which vector width the kernels use and why, for logs and benchmark headers. Nothing logs
     * it at start-up: looking up a System.Logger cost 20-30 ms of a fresh JVM's first model load.
     */
    public static String describe() {
        int preferredBits = VectorShape.preferredShape().vectorBitSize();
        String source = System.getProperty(VECTOR_BITS_PROPERTY) == null
                ? "preferred by this CPU"
                : "forced by -D" + VECTOR_BITS_PROPERTY + "; the CPU prefers " + preferredBits + " bits";
        String emulated = FLOATS.vectorBitSize() > preferredBits ? " (wider than the hardware: emulated, slow)" : "";
        return "bertj kernels: " + FLOATS.vectorBitSize() + "-bit vectors, " + LANES + " floats ("
                + source + ")" + emulated + ", Linear micro-kernel " + Tuning.TILE_ROWS + " rows x "
                + Tuning.PANEL_WIDTH + " columns";
    }
}
