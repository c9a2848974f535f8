package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.kernels.ThreadPool;
import bertj.loader.BertConfig;
import bertj.loader.DefaultModel;
import bertj.loader.PoolingConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code bertj demo}: the README's main job. Loads the default model, embeds the README's four sentences one
 * by one, and prints the cosine similarity of every pair, each step with the time it took.
 */
@Command(name = "demo", description = "Sentence embeddings and similarities of four example sentences with the default model, timed.")
final class DemoCommand extends CliCommand {
    /** The README's example sentences. */
    static final List<String> SENTENCES = List.of("A man is playing a guitar.", "Someone is making music.",
            "The new movie is awesome.", "The cat sits outside.");
    /** Values of each embedding shown. */
    private static final int SHOWN = 4;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the kernels (default: one per core).")
    Integer threads;

    @Override
    public Integer call() {
        if (threads != null && threads < 1) throw new ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
        Path dir = ModelArgument.resolve("default");
        PrintWriter out = out();
        try (ThreadPool pool = threads == null ? ThreadPool.ofAvailableCores() : new ThreadPool(threads)) {
            long t0 = System.nanoTime();
            try (Bert bert = Bert.load(dir, pool)) {
                long loaded = System.nanoTime() - t0;
                BertConfig config = bert.model().config();
                PoolingConfig pooling = bert.defaultPooling();
                out.printf(Locale.ROOT, "%s: %d layers, hidden size %d, %s pooling%s; %d thread%s%n", DefaultModel.NAME,
                        config.numHiddenLayers(), config.hiddenSize(), pooling.mode().name().toLowerCase(Locale.ROOT),
                        pooling.normalize() ? ", normalized" : "", pool.threads(), pool.threads() == 1 ? "" : "s");
                out.printf(Locale.ROOT, "loaded in %s%n%n", millis(loaded));

                int width = SENTENCES.stream().mapToInt(String::length).max().orElse(0) + 2;
                float[][] vectors = new float[SENTENCES.size()][];
                out.println("embeddings:");
                for (int i = 0; i < SENTENCES.size(); i++) {
                    long start = System.nanoTime();
                    vectors[i] = bert.embed(SENTENCES.get(i));
                    long took = System.nanoTime() - start;
                    out.printf(Locale.ROOT, "  %-" + width + "s %s  %s%s%n", quoted(SENTENCES.get(i)), preview(vectors[i]), millis(took),
                            i == 0 ? " (first call: the JIT compiles the kernels)" : "");
                }
                out.println();

                out.println("cosine similarity:");
                long start = System.nanoTime();
                int pairs = 0;
                StringBuilder lines = new StringBuilder();
                for (int i = 0; i < vectors.length; i++) {
                    for (int j = i + 1; j < vectors.length; j++, pairs++) {
                        double cosine = Pooling.cosine(vectors[i], vectors[j]);
                        lines.append(String.format(Locale.ROOT, "  %7.4f  %-" + width + "s ~ %s%n", cosine, quoted(SENTENCES.get(i)),
                                quoted(SENTENCES.get(j))));
                    }
                }
                long took = System.nanoTime() - start;
                out.print(lines);
                out.printf(Locale.ROOT, "  (%d pairs from the embeddings above in %s)%n", pairs, millis(took));
            }
        }
        return Main.OK;
    }

    private static String quoted(String s) {
        return '"' + s + '"';
    }

    /** The first values of a vector and its size: [0.0679, -0.0177, ...] (384). */
    private static String preview(float[] v) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < Math.min(SHOWN, v.length); i++) s.append(String.format(Locale.ROOT, "%8.4f,", v[i]));
        return s.append(" ...] (").append(v.length).append(')').toString();
    }

    private static String millis(long nanos) {
        double ms = nanos / 1e6;
        return String.format(Locale.ROOT, ms < 10 ? "%.2f ms" : "%.1f ms", ms);
    }
}
