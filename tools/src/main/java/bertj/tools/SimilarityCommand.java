package bertj.tools;

import bertj.engine.Bert;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj similarity MODEL TEXT_A TEXT_B}: the cosine similarity of the two texts' embeddings (the model's
 * own pooling and normalisation, as {@code embed} makes them), as one number.
 */
@Command(name = "similarity", description = "Print the cosine similarity of the embeddings of two texts.")
final class SimilarityCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Parameters(index = "1", paramLabel = "TEXT_A", description = "The first text.")
    String a;

    @Parameters(index = "2", paramLabel = "TEXT_B", description = "The second text.")
    String b;

    @Override
    public Integer call() {
        try (Bert bert = model.load()) {
            out().println(bert.similarity(a, b));
        }
        return Main.OK;
    }
}
