package bertj.bench;

import bertj.engine.Bert;
import bertj.engine.KernelMode;
import bertj.kernels.Precision;
import bertj.tools.EmbedCommand;
import bertj.engine.Pooling;
import bertj.kernels.ThreadPool;
import bertj.loader.PoolingConfig;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import bertj.tools.JsonLines;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A JSON Lines corpus embedded end to end by bertj and by ONNX Runtime, in one JVM, passes alternating.
 *
 * <p>bertj's pass is what {@code bertj embed} does with the corpus on stdin: {@link Bert#embed(List, Pooling, boolean)}
 * on consecutive windows of {@value #WINDOW} texts, from the raw text to the vectors, tokenization included.
 * ONNX Runtime's pass is sentence-transformers' {@code encode} ({@link PaddedBatches}: longest first, 32 per
 * batch, padded per batch, pooled with the attention mask) on the same texts tokenized by bertj beforehand,
 * tokenization not timed. Both pool and normalise as the model does ({@link Bert#defaultPooling()}).
 *
 * <p>Before timing, both engines' vectors must agree: cosine at least {@value #MIN_COSINE} and no component
 * further apart than {@link SideBySide#MAX_ABS_DIFF}. Then each engine runs its warm-up passes and the timed
 * passes alternate (bertj, ONNX Runtime, bertj, ...). JSON lines: the corpus's token counts once; per thread
 * count bertj's load time, ONNX Runtime's start, the agreement, and per engine the median, fastest and slowest
 * pass in seconds with texts/s and tokens/s (real tokens; ONNX Runtime's also counting its padding), then
 * the ratio of the medians, bertj / ONNX Runtime.
 */
public final class CorpusBench {
    /** Texts per {@link Bert#embed} call: the window {@code bertj embed} reads from stdin. */
    public static final int WINDOW = EmbedCommand.WINDOW;
    /** Least cosine between the two engines' vectors of a text accepted before timing. */
    public static final double MIN_COSINE = 0.9999;

    /**
     * @param model   a model directory bertj loads
     * @param corpus  JSON Lines, {@code {"text": ...}} per line
     * @param onnx    the same model as ONNX, or null to time bertj alone
     * @param threads thread counts, each at least 1, the same for both engines
     * @param runs    timed passes per engine and thread count
     * @param warmup  untimed passes per engine after the agreement check (itself one untimed pass)
     * @param window  texts per {@link Bert#embed} call
     * @param pooling the pooling of both engines, or null for the model's own
     * @param precision bertj's Linear weights, or null for the checkpoint's own
     */
    public record Options(Path model, Path corpus, Path onnx, List<Integer> threads, int runs, int warmup, int window,
                          Pooling pooling, Precision precision) {
        public Options(Path model, Path corpus, Path onnx, List<Integer> threads, int runs, int warmup, int window,
                       Pooling pooling) {
            this(model, corpus, onnx, threads, runs, warmup, window, pooling, null);
        }

        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(corpus, "corpus");
            threads = List.copyOf(threads);
            checkFlags(threads, runs, warmup, window);
            if (!Files.isRegularFile(corpus)) throw new IllegalArgumentException(corpus + ": no such corpus file");
            if (onnx != null && !Files.isRegularFile(onnx)) throw new IllegalArgumentException(onnx + ": no such ONNX file");
        }

        /** @throws IllegalArgumentException naming the first flag out of range */
        public static void checkFlags(List<Integer> threads, int runs, int warmup, int window) {
            if (threads.isEmpty()) throw new IllegalArgumentException("--threads: give at least one thread count");
            for (int t : threads) if (t < 1) throw new IllegalArgumentException("--threads: thread count must be at least 1, got " + t);
            if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1, got " + runs);
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be at least 0, got " + warmup);
            if (window < 1) throw new IllegalArgumentException("--window must be at least 1, got " + window);
        }
    }

    private CorpusBench() {
    }

    /** The texts of a JSON Lines file, read as {@code bertj embed} reads stdin; a line it would refuse is an error. */
    public static List<String> readTexts(Path file) throws IOException {
        List<String> texts = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            JsonLines.Input input = new JsonLines.Input(in);
            for (JsonLines.Line line; (line = input.next()) != null; ) {
                if (line.error() != null) throw new IllegalArgumentException(file + ": line " + line.number() + ": " + line.error());
                if (line.pair() != null) {
                    throw new IllegalArgumentException(file + ": line " + line.number() + ": has a \"text_pair\"; embed takes one text per line");
                }
                texts.add(line.text());
            }
        }
        if (texts.isEmpty()) throw new IllegalArgumentException(file + ": no texts");
        return texts;
    }

    /** Runs every thread count, printing JSON lines to {@code out} as results come in. */
    public static void run(Options options, PrintWriter out) throws Exception {
        List<String> texts = readTexts(options.corpus());
        PaddedBatches batches = null;
        long tokens = 0;
        for (int threads : options.threads()) {
            try (ThreadPool pool = new ThreadPool(threads)) {
                long start = System.nanoTime();
                try (Bert bert = Bert.load(options.model(), pool, KernelMode.VECTOR, options.precision())) {
                    SideBySide.print(out, SideBySide.line().put("engine", "bertj").put("threads", threads)
                            .put("precision", bert.model().precision().label())
                            .put("load_ms", SideBySide.round(SideBySide.millis(System.nanoTime() - start))));
                    if (batches == null) {
                        List<Encoding> encodings = bert.tokenizer().encodeBatch(texts, null,
                                EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()));
                        batches = PaddedBatches.of(encodings, bert.tokenizer().padTokenId());
                        tokens = encodings.stream().mapToLong(Encoding::length).sum();
                        printCorpus(options, bert, texts, tokens, batches.paddedTokens(), out);
                    }
                    PoolingConfig own = bert.defaultPooling();
                    Pooling mode = options.pooling() != null ? options.pooling() : Pooling.valueOf(own.mode().name());
                    Pass ours = () -> embed(bert, texts, options.window(), mode, own.normalize());
                    if (options.onnx() == null) {
                        measure(options, threads, texts.size(), tokens, ours, null, 0, false, out);
                        continue;
                    }
                    try (SideBySide.OrtRunner ort = SideBySide.OrtRunner.open(options.onnx(), threads, out)) {
                        PaddedBatches padded = batches;
                        Pass theirs = () -> padded.embed(ort::run, mode, own.normalize());
                        measure(options, threads, texts.size(), tokens, ours, theirs, padded.paddedTokens(),
                                bert.model().precision() != Precision.FP32, out);
                    }
                }
            }
        }
    }

    /** One pass over the corpus: a vector per text, in input order. */
    @FunctionalInterface
    private interface Pass {
        float[][] run() throws Exception;
    }

    /** bertj's pass: as {@code bertj embed} does with the corpus on stdin. */
    static float[][] embed(Bert bert, List<String> texts, int window, Pooling mode, boolean normalize) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += window) {
            float[][] vectors = bert.embed(texts.subList(from, Math.min(texts.size(), from + window)), mode, normalize);
            System.arraycopy(vectors, 0, out, from, vectors.length);
        }
        return out;
    }

    private static void printCorpus(Options options, Bert bert, List<String> texts, long tokens, long paddedTokens,
                                    PrintWriter out) {
        int[] lengths = bert.tokenizer().encodeBatch(texts, null, EncodeOptions.DEFAULT).stream().mapToInt(Encoding::length).toArray();
        Arrays.sort(lengths);
        int over = 0;
        for (int n : lengths) if (n > bert.maxLength()) over++;
        SideBySide.print(out, SideBySide.line().put("corpus", options.corpus().toString()).put("texts", texts.size())
                .put("median_tokens", median(lengths)).put("p90_tokens", lengths[nearestRank(lengths.length, 90)])
                .put("max_tokens", lengths[lengths.length - 1]).put("max_length", bert.maxLength())
                .put("over_max_length", over).put("tokens", tokens).put("padded_tokens_in_batches_of_32", paddedTokens)
                .put("window", options.window()));
    }

    /** Checks that the engines agree, warms both up, then times them alternately. */
    private static void measure(Options options, int threads, int texts, long tokens, Pass ours, Pass theirs,
                                long paddedTokens, boolean reducedPrecision, PrintWriter out) throws Exception {
        float[][] mine = ours.run();
        if (theirs != null) check(mine, theirs.run(), threads, reducedPrecision, out);
        for (int i = 0; i < options.warmup(); i++) {
            ours.run();
            if (theirs != null) theirs.run();
        }
        long[] bertj = new long[options.runs()];
        long[] ort = new long[options.runs()];
        for (int i = 0; i < options.runs(); i++) {
            bertj[i] = timed(ours);
            if (theirs != null) ort[i] = timed(theirs);
        }
        double bertjMedian = SideBySide.percentile(bertj, 50) / 1000;
        SideBySide.print(out, timing("bertj", threads, bertj, texts, tokens, 0));
        if (theirs != null) {
            SideBySide.print(out, timing("onnxruntime", threads, ort, texts, tokens, paddedTokens));
            double ortMedian = SideBySide.percentile(ort, 50) / 1000;
            SideBySide.print(out, SideBySide.line().put("threads", threads).put("ratio", SideBySide.round(bertjMedian / ortMedian)));
        }
    }

    private static long timed(Pass pass) throws Exception {
        long start = System.nanoTime();
        pass.run();
        return System.nanoTime() - start;
    }

    /**
     * With bf16 or int8 weights, the least cosine accepted before timing (the check is then only that both run
     * the same model: bench precision measures how close they are).
     */
    public static final double MIN_COSINE_REDUCED = 0.99;

    /**
     * Fails unless every text's vectors have cosine at least {@link #MIN_COSINE} and differ by at most
     * {@link SideBySide#MAX_ABS_DIFF} in every component; with reduced-precision weights, unless every cosine is
     * at least {@link #MIN_COSINE_REDUCED}.
     */
    static void check(float[][] ours, float[][] theirs, int threads, PrintWriter out) {
        check(ours, theirs, threads, false, out);
    }

    static void check(float[][] ours, float[][] theirs, int threads, boolean reducedPrecision, PrintWriter out) {
        double cosineLimit = reducedPrecision ? MIN_COSINE_REDUCED : MIN_COSINE;
        double diffLimit = reducedPrecision ? Double.POSITIVE_INFINITY : SideBySide.MAX_ABS_DIFF;
        double minCosine = Double.POSITIVE_INFINITY, maxAbsDiff = 0;
        int worst = 0;
        for (int i = 0; i < ours.length; i++) {
            if (ours[i].length != theirs[i].length) {
                throw new IllegalStateException("text " + (i + 1) + ": bertj's vector has " + ours[i].length
                        + " values, ONNX Runtime's " + theirs[i].length + ": is the ONNX file the same model?");
            }
            double cosine = Pooling.cosine(ours[i], theirs[i]);
            if (!(cosine >= minCosine)) { // NaN is the worst
                minCosine = cosine;
                worst = i;
            }
            for (int j = 0; j < ours[i].length; j++) {
                double d = Math.abs(ours[i][j] - theirs[i][j]);
                if (!(d <= maxAbsDiff)) maxAbsDiff = d;
            }
        }
        ObjectNode line = SideBySide.line().put("threads", threads).put("min_cosine", minCosine)
                .put("max_abs_diff", maxAbsDiff).put("min_cosine_limit", cosineLimit);
        SideBySide.print(out, reducedPrecision ? line : line.put("max_abs_diff_limit", diffLimit));
        if (!(minCosine >= cosineLimit) || !(maxAbsDiff <= diffLimit)) {
            throw new IllegalStateException("bertj and ONNX Runtime disagree: least cosine " + minCosine + " (text "
                    + (worst + 1) + "), largest difference " + maxAbsDiff + "; limits " + cosineLimit
                    + (reducedPrecision ? "" : " and " + diffLimit)
                    + ". Is the ONNX file the same model? Not timing engines that disagree.");
        }
    }

    private static ObjectNode timing(String engine, int threads, long[] nanos, int texts, long tokens, long paddedTokens) {
        double median = SideBySide.percentile(nanos, 50) / 1000;
        ObjectNode line = SideBySide.line().put("engine", engine).put("threads", threads).put("runs", nanos.length)
                .put("median_s", SideBySide.round(median)).put("min_s", SideBySide.round(SideBySide.percentile(nanos, 0) / 1000))
                .put("max_s", SideBySide.round(SideBySide.percentile(nanos, 100) / 1000))
                .put("texts_per_s", Math.round(texts / median)).put("tokens_per_s", Math.round(tokens / median));
        if (paddedTokens > 0) line.put("padded_tokens_per_s", Math.round(paddedTokens / median));
        return line;
    }

    static double median(int[] sorted) {
        int n = sorted.length;
        return n % 2 == 0 ? (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 : sorted[n / 2];
    }

    /** Index of the p-th percentile, nearest rank, in a sorted array of {@code n}. */
    static int nearestRank(int n, int p) {
        return Math.max((int) Math.ceil(p / 100.0 * n), 1) - 1;
    }
}
