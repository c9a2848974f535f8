package bertj.tools;

import bertj.kernels.Precision;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code --precision fp32|bf16|int8}, for every command that runs the model ({@code @Mixin}). */
public final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "P", converter = Parse.class,
            description = "How the Linear weights are stored: fp32, bf16, int8 or f16 (rounded from the checkpoint's, "
                    + "accuracy in the README's Precision section). Default: as the checkpoint stores them.")
    Precision precision;

    /** The chosen precision, or null for the checkpoint's own. */
    Precision value() {
        return precision;
    }

    /** fp32, bf16, int8 or f16, with the error {@link Precision#parse} gives (bench's options use it too). */
    public static final class Parse implements ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            return Precision.parse(value);
        }
    }
}
