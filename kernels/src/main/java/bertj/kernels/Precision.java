package bertj.kernels;

import java.util.Locale;

/**
 * How a Linear layer's weights are stored: the one choice of reduced precision. Activations, accumulation,
 * embeddings, LayerNorm, softmax and the heads stay float32 in every case; the kernel widens each weight to
 * float32 before its multiply-adds ({@link bertj.kernels.reference.WeightRounding} says how each precision
 * rounds a float32 weight and widens it back).
 */
public enum Precision {
    /** float32, as the checkpoint has it: the default, and the reference for the others. */
    FP32(4),
    /** bfloat16: the upper half of a float32, rounded to nearest even (8 bits of mantissa). */
    BF16(2),
    /** int8, symmetric, with one float32 scale per output channel (row of the Hugging Face weight). */
    INT8(1),
    /** IEEE float16, rounded to nearest even (11 bits of mantissa, magnitudes up to 65504): how many checkpoints store them. */
    F16(2);

    private final int bytesPerWeight;

    Precision(int bytesPerWeight) {
        this.bytesPerWeight = bytesPerWeight;
    }

    /** Bytes each weight takes in the packed layout. */
    public int bytesPerWeight() {
        return bytesPerWeight;
    }

    /** The name on the command line and in file names: fp32, bf16, int8 or f16. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses fp32, bf16, int8 or f16 (any case), with an error that lists them. */
    public static Precision parse(String text) {
        if (text != null) {
            for (Precision p : values()) {
                if (p.label().equalsIgnoreCase(text.strip())) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("precision must be fp32, bf16, int8 or f16, got '" + text + "'");
    }
}
