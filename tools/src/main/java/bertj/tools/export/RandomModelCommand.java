package bertj.tools.export;

import bertj.loader.BertConfig;
import bertj.tools.CliCommand;
import bertj.loader.OutputDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;

/** {@code bertj random-model OUT_DIR [--config bert-base|minilm] [--seed N]}. */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face BERT directory with seeded random weights (normal(0, 0.02), as "
                + "BertModel(BertConfig()) initializes them) and the bert-base-uncased vocabulary, for benchmarks.")
public final class RandomModelCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "OUT_DIR", description = "The directory to write; must not exist, or be empty.")
    Path outDir;

    @Option(names = "--config", paramLabel = "NAME", defaultValue = "bert-base",
            description = "The model shape: bert-base (default; 110M parameters) or minilm (all-MiniLM-L6-v2's, 23M).")
    String config;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + RandomModel.DEFAULT_SEED,
            description = "Seed of the weights (default ${DEFAULT-VALUE}); the same seed writes the same model.")
    long seed;

    @Override
    public Integer call() throws java.io.IOException {
        BertConfig shape;
        try {
            shape = RandomModel.Shape.of(config).config();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        long start = System.nanoTime();
        OutputDirectory.write(outDir, staging -> {
            RandomModel.write(staging, shape, seed);
            return null;
        });
        out().printf(Locale.ROOT, "wrote %s: %s, %s, seed %d, in %d ms%n", outDir, config, RandomModel.describe(shape),
                seed, (System.nanoTime() - start) / 1_000_000);
        return 0;
    }
}
