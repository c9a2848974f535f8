package bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import bertj.engine.BertInput;
import bertj.engine.BertModel;
import bertj.engine.KernelMode;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import bertj.loader.ModelDirectory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * bertj and ONNX Runtime on the same model, token ids and thread count, in one JVM: for each (threads,
 * sequence length) both engines are checked to agree, warmed up, then timed alternately (bertj, ORT, bertj,
 * ORT, ...) so that drift in the machine's state hits both alike. Each configuration prints JSON lines:
 * <pre>
 *   {"engine":"bertj","seq":S,"batch":B,"threads":T,"median_ms":X,"p90_ms":Y}
 *   {"engine":"onnxruntime","seq":S,"batch":B,"threads":T,"median_ms":X,"p90_ms":Y}
 *   {"seq":S,"batch":B,"threads":T,"ratio":bertj/onnxruntime}
 * </pre>
 * plus lines for load time, ORT session creation time, resident memory (VmRSS; sizes in MiB) and the
 * agreement check.
 * Without an ONNX file only bertj is timed.
 *
 * <p>What is timed is what a Java caller gets: for bertj {@code forward} returning {@code float[][][]}; for
 * ORT {@code session.run} on input tensors made once, plus copying {@code last_hidden_state} to the heap.
 */
public final class SideBySide {
    /** Largest |bertj - ORT| on last_hidden_state accepted before timing: both compute the same float32 math. */
    public static final double MAX_ABS_DIFF = 1e-3;
    /**
     * With reduced-precision weights (bertj's bf16 or int8, or ONNX Runtime's quantized model) the outputs move
     * by more than {@link #MAX_ABS_DIFF}; the check that both engines run the same model is then that every
     * token's hidden vector has at least this cosine with ONNX Runtime float32's.
     */
    public static final double MIN_TOKEN_COSINE_REDUCED = 0.9;

    /** Least time spent warming up both engines per configuration. */
    static final long WARMUP_NANOS = 2_000_000_000L;
    /** One round of the warm-up's check that bertj's time has settled. */
    private static final long WARMUP_ROUND_NANOS = 500_000_000L;
    /** Most time spent warming up per configuration. */
    private static final long MAX_WARMUP_NANOS = 20_000_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param model      a model directory bertj loads
     * @param onnx       the same model as ONNX, or null to time bertj alone
     * @param seqLens    sequence lengths, each at least 2
     * @param threads    thread counts, each at least 1
     * @param runs       timed runs per engine and configuration
     * @param warmupRuns untimed runs per engine before timing
     * @param seed       seed of the token ids
     * @param precision  bertj's weights, or null for the checkpoint's own
     * @param onnxReduced the model quantized for ONNX Runtime (a {@code -q} export), timed as a second peer; or null
     */
    public record Options(Path model, Path onnx, List<Integer> seqLens, int batch, List<Integer> threads,
                          int runs, int warmupRuns, long seed, Precision precision, Path onnxReduced) {
        public Options {
            Objects.requireNonNull(model, "model");
            seqLens = List.copyOf(seqLens);
            threads = List.copyOf(threads);
            checkFlags(seqLens, batch, threads, runs, warmupRuns);
            if (onnx != null && !Files.isRegularFile(onnx)) throw new IllegalArgumentException(onnx + ": no such ONNX file");
            if (onnxReduced != null && !Files.isRegularFile(onnxReduced)) {
                throw new IllegalArgumentException(onnxReduced + ": no such ONNX file");
            }
            if (onnxReduced != null && onnx == null) {
                throw new IllegalArgumentException("--vs-onnxruntime-reduced needs --vs-onnxruntime (the float32 model)");
            }
        }

        public Options(Path model, Path onnx, List<Integer> seqLens, int batch, List<Integer> threads, int runs,
                       int warmupRuns, long seed) {
            this(model, onnx, seqLens, batch, threads, runs, warmupRuns, seed, null, null);
        }

        /** Limits on sizes that would each allocate their own array before anything is timed. */
        static final int MAX_RUNS = 1_000_000, MAX_TOKENS = 1 << 24;

        /** @throws IllegalArgumentException naming the first value out of range */
        public static void checkFlags(List<Integer> seqLens, int batch, List<Integer> threads, int runs, int warmupRuns) {
            if (seqLens.isEmpty() || threads.isEmpty()) throw new IllegalArgumentException("give at least one sequence length and thread count");
            for (int s : seqLens) if (s < 2) throw new IllegalArgumentException("sequence length must be at least 2 ([CLS] and [SEP]), got " + s);
            for (int t : threads) if (t < 1) throw new IllegalArgumentException("thread count must be at least 1, got " + t);
            if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            if (runs < 1 || runs > MAX_RUNS) throw new IllegalArgumentException("runs must be from 1 to " + MAX_RUNS + ", got " + runs);
            for (int s : seqLens) {
                if ((long) batch * s > MAX_TOKENS) {
                    throw new IllegalArgumentException("batch " + batch + " x sequence length " + s + " is over " + MAX_TOKENS
                            + " tokens per call, far more than any model's working memory takes");
                }
            }
            if (warmupRuns < 0) throw new IllegalArgumentException("warm-up runs must be at least 0, got " + warmupRuns);
        }
    }

    private SideBySide() {
    }

    /** Runs every configuration, printing JSON lines to {@code out} as results come in. */
    public static void run(Options options, PrintWriter out) throws OrtException {
        RandomInputs inputs = RandomInputs.forModel(options.model());
        long weightsBytes = weightsBytes(options.model());
        for (int threads : options.threads()) {
            try (ThreadPool pool = new ThreadPool(threads)) {
                run(options, inputs, weightsBytes, pool, threads, out);
            }
        }
    }

    /** One thread count: load, then every sequence length. */
    private static void run(Options options, RandomInputs inputs, long weightsBytes, ThreadPool pool, int threads,
                            PrintWriter out) throws OrtException {
        double rssBefore = ResidentMemory.mib();
        long start = System.nanoTime();
        try (BertModel bertj = BertModel.load(options.model(), pool, KernelMode.VECTOR, options.precision())) {
            double loadMs = millis(System.nanoTime() - start);
            String precision = bertj.precision().label();
            print(out, line().put("engine", "bertj").put("precision", precision).put("threads", threads).put("load_ms", round(loadMs))
                    .put("weights_mb", round(weightsBytes / 1048576.0)).put("rss_mb_before_load", round(rssBefore))
                    .put("rss_mb_after_load", round(ResidentMemory.mib())));
            // One forward before ONNX Runtime allocates anything, so the resident memory is bertj's alone.
            int firstSeq = options.seqLens().getFirst();
            bertj.forward(inputs.batch(options.batch(), firstSeq, options.seed() + firstSeq));
            print(out, line().put("engine", "bertj").put("threads", threads).put("seq", firstSeq)
                    .put("batch", options.batch()).put("rss_mb_after_forward", round(ResidentMemory.mib())));
            try (OrtRunner ort = options.onnx() == null ? null : OrtRunner.open(options.onnx(), threads, out);
                 OrtRunner reduced = options.onnxReduced() == null ? null : OrtRunner.open(options.onnxReduced(), threads, out)) {
                for (int seq : options.seqLens()) {
                    BertInput input = inputs.batch(options.batch(), seq, options.seed() + seq);
                    if (ort != null) {
                        float[] reference = ort.run(input);
                        check(flatten(bertj.forward(input).lastHiddenState()), "bertj " + precision,
                                bertj.precision() != Precision.FP32, reference, ort, input, threads, out);
                        if (reduced != null) {
                            check(reduced.run(input), "onnxruntime " + reduced.file.getFileName(), true, reference, ort,
                                    input, threads, out);
                        }
                    }
                    measure(options, bertj, precision, ort, reduced, input, threads, out);
                }
                print(out, line().put("threads", threads).put("rss_mb_after_runs", round(ResidentMemory.mib())));
            }
        }
    }

    /**
     * Fails unless {@code ours} (an engine's last_hidden_state, row-major) is within {@link #MAX_ABS_DIFF} of ONNX
     * Runtime float32's everywhere, or, for reduced-precision weights, has every token's cosine with it at least
     * {@link #MIN_TOKEN_COSINE_REDUCED}.
     */
    private static void check(float[] ours, String engine, boolean reducedPrecision, float[] theirs, OrtRunner ort,
                              BertInput input, int threads, PrintWriter out) {
        if (ours.length == 0 || theirs.length != ours.length || ours.length % input.tokens() != 0) {
            throw new IllegalStateException("ONNX Runtime's " + ort.outputName + " has " + theirs.length + " values, "
                    + engine + "'s " + ours.length + " (batch " + input.batch() + " x seq " + input.seqLen()
                    + "): is " + ort.file + " the same model?");
        }
        int hidden = ours.length / input.tokens();
        double worst = 0, leastCosine = 1;
        for (int t = 0; t < input.tokens(); t++) {
            double dot = 0, a2 = 0, b2 = 0;
            for (int i = t * hidden; i < (t + 1) * hidden; i++) {
                double d = Math.abs(ours[i] - theirs[i]);
                if (!(d <= worst)) worst = d; // NaN is the worst
                dot += (double) ours[i] * theirs[i];
                a2 += (double) ours[i] * ours[i];
                b2 += (double) theirs[i] * theirs[i];
            }
            double cosine = dot / Math.sqrt(a2 * b2);
            if (!(cosine >= leastCosine)) leastCosine = cosine;
        }
        ObjectNode line = line().put("engine", engine).put("seq", input.seqLen()).put("batch", input.batch())
                .put("threads", threads).put("max_abs_diff", worst);
        print(out, reducedPrecision ? line.put("min_token_cosine", leastCosine) : line);
        boolean agree = reducedPrecision ? leastCosine >= MIN_TOKEN_COSINE_REDUCED : worst <= MAX_ABS_DIFF;
        if (!agree) {
            throw new IllegalStateException("ONNX Runtime's " + ort.outputName + " differs from " + engine + "'s by "
                    + worst + " (max abs), least token cosine " + leastCosine + ", at seq " + input.seqLen()
                    + ", batch " + input.batch() + ", over the limit (" + (reducedPrecision ? "cosine "
                    + MIN_TOKEN_COSINE_REDUCED : MAX_ABS_DIFF + " max abs") + "): is " + ort.file
                    + " the same model? Not timing engines that disagree.");
        }
    }

    static float[] flatten(float[][][] x) {
        int hidden = x[0][0].length, i = 0;
        float[] flat = new float[x.length * x[0].length * hidden];
        for (float[][] sequence : x) {
            for (float[] row : sequence) {
                System.arraycopy(row, 0, flat, i, hidden);
                i += hidden;
            }
        }
        return flat;
    }

    private static void measure(Options options, BertModel bertj, String precision, OrtRunner ort, OrtRunner reduced,
                                BertInput input, int threads, PrintWriter out) throws OrtException {
        // Warm-up: the asked-for runs, and at least WARMUP_NANOS, so that the JIT has compiled the hot code
        // (a few runs at seq 8 take milliseconds; C2 needs thousands of loop iterations and a second or so).
        // Then rounds until bertj's median stops improving by 5%: C2 compiles the Vector API code in stages,
        // and on a loaded host the first seconds at seq 8 still ran 10-20x slower (one run's median 6.4 ms
        // instead of 1.9, its p90 54 ms).
        long start = System.nanoTime();
        for (int i = 0; i < options.warmupRuns() || System.nanoTime() - start < WARMUP_NANOS; i++) {
            bertj.forward(input);
            if (ort != null) ort.run(input);
            if (reduced != null) reduced.run(input);
        }
        double previous = Double.MAX_VALUE;
        while (System.nanoTime() - start < MAX_WARMUP_NANOS) {
            double median = warmupRound(bertj, ort, reduced, input);
            if (median > 0.95 * previous) break;
            previous = median;
        }
        long[] ours = new long[options.runs()];
        long[] theirs = new long[options.runs()];
        long[] theirsReduced = new long[options.runs()];
        for (int i = 0; i < options.runs(); i++) {
            long t0 = System.nanoTime();
            bertj.forward(input);
            ours[i] = System.nanoTime() - t0;
            if (ort != null) {
                t0 = System.nanoTime();
                ort.run(input);
                theirs[i] = System.nanoTime() - t0;
            }
            if (reduced != null) {
                t0 = System.nanoTime();
                reduced.run(input);
                theirsReduced[i] = System.nanoTime() - t0;
            }
        }
        double bertjMedian = percentile(ours, 50);
        print(out, timing("bertj", input, threads, bertjMedian, percentile(ours, 90)).put("precision", precision));
        if (ort != null) {
            double ortMedian = percentile(theirs, 50);
            print(out, timing("onnxruntime", input, threads, ortMedian, percentile(theirs, 90)));
            print(out, line().put("seq", input.seqLen()).put("batch", input.batch()).put("threads", threads)
                    .put("precision", precision).put("ratio", Math.round(bertjMedian / ortMedian * 1000) / 1000.0));
        }
        if (reduced != null) {
            double reducedMedian = percentile(theirsReduced, 50);
            print(out, timing("onnxruntime_reduced", input, threads, reducedMedian, percentile(theirsReduced, 90))
                    .put("file", reduced.file.getFileName().toString()));
            print(out, line().put("seq", input.seqLen()).put("batch", input.batch()).put("threads", threads)
                    .put("precision", precision)
                    .put("ratio_vs_onnxruntime_reduced", Math.round(bertjMedian / reducedMedian * 1000) / 1000.0));
        }
    }

    /** Runs both engines for WARMUP_ROUND_NANOS and at least 3 times; bertj's median ms per run. */
    private static double warmupRound(BertModel bertj, OrtRunner ort, OrtRunner reduced, BertInput input)
            throws OrtException {
        List<Long> times = new ArrayList<>();
        long start = System.nanoTime();
        while (times.size() < 3 || System.nanoTime() - start < WARMUP_ROUND_NANOS) {
            long t0 = System.nanoTime();
            bertj.forward(input);
            times.add(System.nanoTime() - t0);
            if (ort != null) ort.run(input);
            if (reduced != null) reduced.run(input);
        }
        return percentile(times.stream().mapToLong(Long::longValue).toArray(), 50);
    }

    private static ObjectNode timing(String engine, BertInput input, int threads, double medianMs, double p90Ms) {
        return line().put("engine", engine).put("seq", input.seqLen()).put("batch", input.batch()).put("threads", threads)
                .put("median_ms", round(medianMs)).put("p90_ms", round(p90Ms));
    }

    /**
     * The p-th percentile in milliseconds: the median of an even count is the mean of the middle two, other
     * percentiles are nearest-rank (the smallest value with at least p% of the runs at or below it).
     */
    static double percentile(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        if (p == 50 && n % 2 == 0) return millis((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0);
        int rank = (int) Math.ceil(p / 100.0 * n);
        return millis(sorted[Math.max(rank, 1) - 1]);
    }

    static double millis(double nanos) {
        return nanos / 1e6;
    }

    static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    private static long weightsBytes(Path model) {
        try (ModelDirectory dir = ModelDirectory.open(model)) {
            return dir.checkpoint().totalBytes();
        }
    }

    static ObjectNode line() {
        return JSON.createObjectNode();
    }

    static void print(PrintWriter out, ObjectNode line) {
        out.println(line.toString());
        out.flush();
    }

    /**
     * An ONNX Runtime session set up as the comparison needs: T intra-op threads, sequential, optimization ALL,
     * workers that stop spinning when a run ends.
     */
    static final class OrtRunner implements AutoCloseable {
        final Path file;
        final String outputName;
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;
        private BertInput preparedFor;
        private Map<String, OnnxTensor> prepared = Map.of();

        private OrtRunner(Path file, OrtSession session, String outputName) {
            this.file = file;
            this.session = session;
            this.outputName = outputName;
        }

        static OrtRunner open(Path file, int threads, PrintWriter out) throws OrtException {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            double rssBefore = ResidentMemory.mib();
            long start = System.nanoTime();
            OrtSession session;
            try (OrtSession.SessionOptions options = OrtSetup.options(threads)) {
                // ORT's idle workers otherwise keep spinning for as long as the session is open, on the core
                // bertj's second thread needs between ORT's runs (bertj's 2-thread times doubled). They still
                // spin within a run; ORT's own times did not change measurably.
                options.addConfigEntry("session.force_spinning_stop", "1");
                session = env.createSession(file.toString(), options);
            }
            double sessionMs = millis(System.nanoTime() - start);
            try {
                OrtSetup.checkInputs(file, session);
                String output = OrtSetup.lastHiddenStateName(file, session);
                print(out, line().put("engine", "onnxruntime").put("threads", threads).put("session_ms", round(sessionMs))
                        .put("rss_mb_before_session", round(rssBefore)).put("rss_mb_after_session", round(ResidentMemory.mib()))
                        .put("onnxruntime_version", env.getVersion()).put("output", output));
                return new OrtRunner(file, session, output);
            } catch (RuntimeException | OrtException e) {
                session.close();
                throw e;
            }
        }

        /** last_hidden_state, row-major [batch, seq, hidden]. Input tensors are made once per distinct input. */
        float[] run(BertInput input) throws OrtException {
            if (input != preparedFor) prepare(input);
            try (OrtSession.Result result = session.run(prepared)) {
                FloatBuffer values = ((OnnxTensor) result.get(outputName).orElseThrow()).getFloatBuffer();
                float[] out = new float[values.remaining()];
                values.get(out);
                return out;
            }
        }

        private void prepare(BertInput input) throws OrtException {
            closePrepared();
            long[] shape = {input.batch(), input.seqLen()};
            Map<String, int[]> columns = Map.of("input_ids", input.inputIds(), "attention_mask", input.attentionMask(),
                    "token_type_ids", input.tokenTypeIds());
            Map<String, OnnxTensor> tensors = new HashMap<>();
            for (String name : session.getInputNames()) {
                long[] values = Arrays.stream(columns.get(name)).asLongStream().toArray();
                tensors.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
            }
            prepared = tensors;
            preparedFor = input;
        }

        private void closePrepared() {
            prepared.values().forEach(OnnxTensor::close);
            prepared = Map.of();
            preparedFor = null;
        }

        @Override
        public void close() throws OrtException {
            closePrepared();
            session.close();
        }
    }
}
