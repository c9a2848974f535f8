package bertj.bench;

import bertj.engine.BertInput;
import bertj.engine.BertModel;
import bertj.kernels.ThreadPool;
import bertj.tools.ModelArgument;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the time of one forward pass goes: runs a model with {@code -Dbertj.profile=true} and prints
 * the time per kind of op, per forward, after warm-up.
 * {@code ./bertj bench profile MODEL [SEQ] [THREADS] [RUNS] [BATCH]}
 */
public final class ForwardProfile {
    private ForwardProfile() {
    }

    public static void main(String[] args) {
        if (!Boolean.getBoolean("bertj.profile")) {
            System.err.println("bertj: run with BERTJ_JAVA_OPTS=-Dbertj.profile=true to time each op");
            System.exit(2);
        }
        int seq = positive(args, 1, "SEQ", 128);
        int threads = positive(args, 2, "THREADS", 1);
        int runs = positive(args, 3, "RUNS", 50);
        int batch = positive(args, 4, "BATCH", 1);
        try {
            profile(ModelArgument.resolve(args.length > 0 ? args[0] : "default"), seq, threads, runs, batch);
        } catch (RuntimeException e) {
            System.err.println("bertj: bench profile: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void profile(Path model, int seq, int threads, int runs, int batch) {
        try (ThreadPool pool = new ThreadPool(threads); BertModel bert = BertModel.load(model, pool)) {
            BertInput input = RandomInputs.forModel(model).batch(batch, seq, 42);
            // Warm-up of at least 5 s: with fewer runs the young GCs of the JIT's warm-up and not yet compiled
            // paths (the pooler's single-row Linear) land in the profile.
            long warmupEnd = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < runs || System.nanoTime() < warmupEnd; i++) bert.forward(input);
            BertModel.resetProfile();
            long start = System.nanoTime();
            for (int i = 0; i < runs; i++) bert.forward(input);
            double totalMs = (System.nanoTime() - start) / 1e6 / runs;
            Map<String, Long> profile = BertModel.profile();
            long accounted = profile.values().stream().mapToLong(Long::longValue).sum();
            System.out.printf("batch %d, seq %d, threads %d: %.3f ms per forward%n", batch, seq, threads, totalMs);
            profile.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).forEach(e ->
                    System.out.printf("  %-28s %8.3f ms  %5.1f%%%n", e.getKey(), e.getValue() / 1e6 / runs, 100.0 * e.getValue() / 1e6 / runs / totalMs));
            System.out.printf("  %-28s %8.3f ms%n", "other", totalMs - accounted / 1e6 / runs);
        }
    }

    /** args[i] as a positive int, or the default when absent; exits with a usage message otherwise. */
    private static int positive(String[] args, int i, String name, int fallback) {
        if (args.length <= i) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(args[i]);
            if (value >= 1) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("bertj: bench profile: " + name + " must be a positive whole number, got '" + args[i] + "'");
        System.err.println("usage: bertj bench profile MODEL [SEQ] [THREADS] [RUNS] [BATCH]");
        System.exit(2);
        return fallback;
    }
}
