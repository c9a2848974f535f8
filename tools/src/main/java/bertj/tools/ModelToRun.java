package bertj.tools;

import bertj.engine.Bert;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** MODEL, the first argument, and {@code --precision}: what every command that runs the model takes ({@code @Mixin}). */
final class ModelToRun {
    @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
    String model;

    @Mixin
    PrecisionOption precision;

    /** The model, resolved as {@link ModelArgument#resolve} says, in the chosen precision. */
    Bert load() {
        return Bert.load(ModelArgument.resolve(model), precision.value());
    }
}
