package bertj.bench;

import bertj.engine.Pooling;
import bertj.kernels.Precision;
import bertj.loader.BertConfig;
import bertj.tools.ModelArgument;
import bertj.tools.PrecisionOption;
import bertj.tools.export.RandomModel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Main class of the bench jar ({@code ./bertj bench ...}):
 * <ul>
 *   <li>{@code bench MODEL [--seq 8,32,128,512] [--batch N] [--threads 1,2] [--runs N] [--vs-onnxruntime FILE.onnx]}:
 *       the {@link SideBySide} latency comparison, JSON lines on stdout;</li>
 *   <li>{@code bench corpus MODEL FILE.jsonl [--threads 1,2] [--runs N] [--vs-onnxruntime FILE.onnx]}: a JSON Lines
 *       corpus end to end, side by side ({@link CorpusBench});</li>
 *   <li>{@code bench serve MODEL [--clients 1,16,64] [--requests N] [--threads T] [--corpus FILE.jsonl]}: the HTTP
 *       server in-process under concurrent clients, against the in-process batched path ({@link ServeBench});</li>
 *   <li>{@code bench oneshot [--runs N] [--vs-onnxruntime FILE.onnx] [-- COMMAND...]}: cold one-shot commands, wall
 *       time and peak memory, against ONNX Runtime's cold one-shot ({@link OneShot}, {@link OrtOneShot});</li>
 *   <li>{@code bench rss [--stdin FILE] [--repeat N] -- COMMAND...}: one command's wall time and peak memory;</li>
 *   <li>{@code bench classifier-model OUT_DIR [--config minilm] [--labels 1]}: a random sequence classifier for
 *       classify one-shots ({@link ClassifierModel});</li>
 *   <li>{@code bench roofline [--threads 1,2] [--seconds S]}: this machine's FMA peak and read bandwidth
 *       ({@code bertj.bench.kernels.Roofline});</li>
 *   <li>{@code bench gemm ...}: the matmul kernel benchmark ({@code bertj.bench.kernels.GemmBench});</li>
 *   <li>{@code bench profile MODEL [SEQ] [THREADS] [RUNS] [BATCH]}: time per kind of op in one forward ({@link ForwardProfile});</li>
 *   <li>{@code bench jmh [JMH options]}: the JMH benchmarks in this jar ({@link ForwardBenchmark} and the kernels').</li>
 * </ul>
 * Exit codes as the CLI's: 0 success, 1 an error (one line {@code bertj: message} on stderr), 2 wrong flags.
 */
public final class BenchMain {
    static final int OK = 0, ERROR = 1, USAGE = 2;
    private static final String GEMM_BENCH = "bertj.bench.kernels.GemmBench";

    private BenchMain() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        int code;
        if (args.length > 0 && args[0].equals("gemm")) {
            code = gemm(Arrays.copyOfRange(args, 1, args.length), err);
        } else if (args.length > 0 && args[0].equals("profile")) {
            ForwardProfile.main(Arrays.copyOfRange(args, 1, args.length));
            code = OK;
        } else if (args.length > 0 && args[0].equals("jmh")) {
            try {
                org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
                code = OK;
            } catch (Exception e) {
                err.println("bertj: " + e.getMessage());
                code = ERROR;
            }
        } else {
            code = run(args, out, err);
        }
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * The picocli commands: {@code corpus}, {@code serve}, {@code oneshot}, {@code rss} and {@code classifier-model} by their first argument, else the
     * side-by-side latency comparison. Returns the exit code, never exits the JVM.
     */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        String first = args.length > 0 ? args[0] : "";
        Object command = switch (first) {
            case "corpus" -> new CorpusCommand();
            case "precision" -> new PrecisionCommand();
            case "oneshot" -> new OneShotCommand();
            case "rss" -> new RssCommand();
            case "classifier-model" -> new ClassifierModelCommand();
            case "roofline" -> new RooflineCommand();
            case "serve" -> new ServeCommand();
            default -> new SideBySideCommand();
        };
        if (!(command instanceof SideBySideCommand)) args = Arrays.copyOfRange(args, 1, args.length);
        CommandLine cli = new CommandLine(command);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("bertj: " + e.getMessage());
            err.print(e.getCommandLine().getHelp().fullSynopsis());
            err.println("Try '" + e.getCommandLine().getCommandName() + " --help' for more information.");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (parseResult.hasMatchedOption("--debug")) e.printStackTrace(err);
            err.println("bertj: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            return ERROR;
        });
        return cli.execute(args);
    }

    /** The kernels engineer's GEMM benchmark, looked up at run time so that this jar builds without it. */
    private static int gemm(String[] args, PrintWriter err) {
        try {
            Class.forName(GEMM_BENCH).getMethod("main", String[].class).invoke(null, (Object) args);
            return OK;
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            err.println("bertj: this build has no GEMM benchmark (" + GEMM_BENCH + ".main)");
            return ERROR;
        } catch (InvocationTargetException e) {
            err.println("bertj: " + e.getCause().getMessage());
            return ERROR;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    @Command(name = "bertj bench", sortOptions = false,
            description = {"Latency of bertj's forward pass, side by side with ONNX Runtime on the same token ids and threads.",
                    "Prints one JSON object per line: per (seq, batch, threads) the median and p90 in ms of each engine "
                            + "and their ratio; also load time, session creation time, resident memory and the "
                            + "max abs difference of the outputs (checked <= 1e-3 before timing)."},
            footer = {"", "Also: 'bertj bench corpus' (a JSON Lines corpus end to end), 'bertj bench serve' (the HTTP server under "
                    + "concurrent clients), 'bertj bench oneshot' (cold one-shot "
                    + "commands), 'bertj bench rss' (peak memory of a command), 'bertj bench classifier-model' (a random "
                    + "sequence classifier), 'bertj bench roofline' (FMA peak and read bandwidth), 'bertj bench gemm ...' (matmul kernel GFLOP/s), 'bertj bench jmh [JMH options]'; "
                    + "each with --help."})
    static final class SideBySideCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
        String model;

        @Option(names = "--seq", split = ",", paramLabel = "S", defaultValue = "8,32,128,512",
                description = "Sequence lengths (default ${DEFAULT-VALUE}).")
        List<Integer> seqLens;

        @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Sequences per call (default ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
                description = "Thread counts, the same for both engines (default ${DEFAULT-VALUE}).")
        List<Integer> threads;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "20", description = "Timed runs per engine and configuration (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--warmup", paramLabel = "N", defaultValue = "5", description = "Untimed runs per engine first, and at least 2 s of them (default ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the token ids (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--vs-onnxruntime", paramLabel = "FILE.onnx",
                description = "The same model as ONNX (e.g. from 'bertj export-onnx'), 'default' for the one in the "
                        + "default model's jar, or a jar holding one .onnx; without it only bertj is timed.")
        String onnx;

        @Option(names = "--vs-onnxruntime-reduced", paramLabel = "FILE.onnx",
                description = "The same model quantized for ONNX Runtime (e.g. the jar langchain4j-embeddings-"
                        + "all-minilm-l6-v2-q), timed as a second peer.")
        String onnxReduced;

        @Option(names = "--precision", paramLabel = "P", converter = PrecisionOption.Parse.class,
                description = "bertj's Linear weights: fp32, bf16, int8 or f16 (default: as the checkpoint stores them).")
        Precision precision;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try {
                SideBySide.Options.checkFlags(seqLens, batch, threads, runs, warmup);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            var options = new SideBySide.Options(ModelArgument.resolve(model), onnx == null ? null : OneShot.onnxFile(onnx),
                    seqLens, batch, threads, runs, warmup, seed, precision,
                    onnxReduced == null ? null : OneShot.onnxFile(onnxReduced));
            SideBySide.run(options, spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench corpus", sortOptions = false,
            description = {"A JSON Lines corpus ({\"text\": ...} per line) embedded end to end by bertj and by ONNX Runtime, "
                    + "side by side in one JVM.",
                    "bertj: Bert.embed on consecutive windows of texts, as 'bertj embed' reads stdin, tokenization included. "
                            + "ONNX Runtime: the same texts tokenized by bertj beforehand (not timed), longest first, 32 per "
                            + "batch, padded per batch and pooled as sentence-transformers does.",
                    "The vectors must agree (cosine >= " + CorpusBench.MIN_COSINE + ", max abs difference <= "
                            + SideBySide.MAX_ABS_DIFF + ") before anything is timed. Prints JSON lines: the corpus's token "
                            + "counts; per thread count and engine the median, fastest and slowest pass in seconds, texts/s, "
                            + "tokens/s (real, and ONNX Runtime's padded), and the ratio bertj / ONNX Runtime."})
    static final class CorpusCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = "A Hugging Face model directory or 'default'.")
        String model;

        @Parameters(index = "1", paramLabel = "FILE.jsonl", description = "The corpus, e.g. bench/corpus/mixed-1000.jsonl.")
        Path corpus;

        @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
                description = "Thread counts, the same for both engines (default ${DEFAULT-VALUE}).")
        List<Integer> threads;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Timed passes per engine and thread count (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
                description = "Untimed passes per engine after the agreement check, itself one (default ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--window", paramLabel = "N", defaultValue = "" + CorpusBench.WINDOW,
                description = "Texts per Bert.embed call (default ${DEFAULT-VALUE}, as 'bertj embed').")
        int window;

        @Option(names = "--pooling", paramLabel = "MODE", description = "cls, mean or max for both engines (default: the model's own).")
        Pooling pooling;

        @Option(names = "--precision", paramLabel = "P", converter = PrecisionOption.Parse.class,
                description = "bertj's Linear weights: fp32, bf16, int8 or f16 (default: as the checkpoint stores them).")
        Precision precision;

        @Option(names = "--vs-onnxruntime", paramLabel = "FILE.onnx",
                description = "The same model as ONNX, or 'default' for the one in the default model's jar; without it only bertj is timed.")
        String onnx;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try {
                CorpusBench.Options.checkFlags(threads, runs, warmup, window);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Path modelDir = ModelArgument.resolve(model);
            var options = new CorpusBench.Options(modelDir, corpus, onnx == null ? null : OneShot.onnxFile(onnx), threads, runs,
                    warmup, window, pooling, precision);
            CorpusBench.run(options, spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench serve", sortOptions = false,
            description = {"The HTTP server ('bertj serve') in this JVM on 127.0.0.1, under concurrent clients sending "
                    + "single-text POST /embed requests drawn from a corpus, against the in-process batched path on the same texts.",
                    "Per client count: a warm-up, then --requests requests in all (virtual threads, HTTP/1.1); the in-process "
                            + "path (Bert.embed on windows of " + CorpusBench.WINDOW + " texts, as 'bertj embed') is timed just "
                            + "before and just after. Every answer must be the in-process vector of its text, bit for bit, and "
                            + "every request must succeed, or the run fails.",
                    "Prints JSON lines: per client count requests/s, tokens/s, latency p50/p90/p99 in ms, in-process texts/s "
                            + "and the ratio server / in-process; at 1 client also the in-process forward of a 16-token text "
                            + "(median of " + ServeBench.SEQ16_RUNS + " calls) and the p50's difference from it."})
    static final class ServeCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
        String model;

        @Option(names = "--clients", split = ",", paramLabel = "N", defaultValue = "1,16,64",
                description = "Concurrent client counts, one after another (default ${DEFAULT-VALUE}).")
        List<Integer> clients;

        @Option(names = "--requests", paramLabel = "N", defaultValue = "2000", description = "Timed requests per client count, in all (default ${DEFAULT-VALUE}).")
        int requests;

        @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
                description = "Untimed requests per client count before the timed ones, checked too (default ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--threads", paramLabel = "T", defaultValue = "2", description = "The engine's threads (default ${DEFAULT-VALUE}).")
        int threads;

        @Option(names = "--corpus", paramLabel = "FILE.jsonl", defaultValue = ServeBench.DEFAULT_CORPUS,
                description = "The texts, {\"text\": ...} per line; longer ones are truncated as the server does (default ${DEFAULT-VALUE}).")
        Path corpus;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try {
                ServeBench.Options.checkFlags(clients, requests, warmup, threads);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            var options = new ServeBench.Options(ModelArgument.resolve(model), corpus, clients, requests, warmup, threads);
            ServeBench.run(options, spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench oneshot", sortOptions = false,
            description = {"Cold one-shot commands measured from outside: the bertj CLI COMMAND (default: "
                    + "embed default hello) and, with --vs-onnxruntime, a cold JVM that opens the ONNX file in ONNX Runtime, "
                    + "runs the token ids once (no tokenizer) and prints the vector; alternately, each in a process of its own.",
                    "Prints JSON lines: per command the median, fastest and slowest wall time in seconds and the median and "
                            + "largest peak RSS (GNU time's %%M), then the ratios bertj / ONNX Runtime."})
    static final class OneShotCommand implements Callable<Integer> {
        @Parameters(arity = "0..*", paramLabel = "COMMAND",
                description = "The bertj CLI's arguments, after -- (default: embed default hello); e.g. -- similarity default 'a' 'b'.")
        List<String> command = List.of();

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Timed runs per command (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--warmup", paramLabel = "N", defaultValue = "1",
                description = "Untimed runs per command first, to fill the page cache (default ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--vs-onnxruntime", paramLabel = "FILE.onnx",
                description = "The model as ONNX, or 'default' for the one in the default model's jar; without it only bertj is measured.")
        String onnx;

        @Option(names = "--ort-threads", paramLabel = "N", description = "ONNX Runtime's intra-op threads (default: one per core, as bertj).")
        Integer ortThreads;

        @Option(names = "--ort-ids", paramLabel = "IDS", defaultValue = OneShot.HELLO_IDS,
                description = "Token ids ONNX Runtime runs (default ${DEFAULT-VALUE}: [CLS] hello [SEP] in bert-base-uncased's vocabulary).")
        String ortIds;

        @CommandLine.Mixin
        LauncherOption launcher;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            int threads = ortThreads != null ? ortThreads : Runtime.getRuntime().availableProcessors();
            try {
                OneShot.OneShotOptions.checkFlags(threads, ortIds, runs, warmup);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            List<String> argv = OneShot.cli(launcher.path(), command.isEmpty() ? OneShot.DEFAULT_COMMAND : command);
            var options = new OneShot.OneShotOptions(argv, onnx == null ? null : OneShot.onnxFile(onnx), threads, ortIds, runs, warmup);
            OneShot.buildIfStale(launcher.path());
            OneShot.oneShots(options, spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench rss", sortOptions = false,
            description = {"Runs one bertj CLI COMMAND with stdin from a file (repeated N times) and prints its wall time "
                    + "and peak RSS (GNU time's %%M) as a JSON line.",
                    "E.g. the peak memory of embedding 10,000 lines: --stdin bench/corpus/mixed-1000.jsonl --repeat 10 -- embed default"})
    static final class RssCommand implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The bertj CLI's arguments, after --.")
        List<String> command;

        @Option(names = "--stdin", paramLabel = "FILE", description = "The command's stdin (default: nothing).")
        Path stdin;

        @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "Times the stdin file is given, one after another (default ${DEFAULT-VALUE}).")
        int repeat;

        @CommandLine.Mixin
        LauncherOption launcher;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (repeat < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--repeat must be at least 1, got " + repeat);
            List<String> argv = OneShot.cli(launcher.path(), command);
            OneShot.buildIfStale(launcher.path());
            OneShot.rss(argv, stdin, repeat, spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench roofline", sortOptions = false,
            description = {"This machine's two ceilings for a kernel: the FMA peak (GFLOP/s of independent vector FMA chains) "
                    + "and the read bandwidth (GB/s of summing 256 MB per thread), per thread and for T threads at once.",
                    "Prints one JSON line per measure and thread count."})
    static final class RooflineCommand implements Callable<Integer> {
        @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
                description = "Thread counts, each run at once (default ${DEFAULT-VALUE}).")
        List<Integer> threads;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "2", description = "Timed seconds per measure (default ${DEFAULT-VALUE}).")
        double seconds;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            for (int t : threads) {
                if (t < 1 || t > 256) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be 1 to 256, got " + t);
            }
            if (!(seconds >= 0.01 && seconds <= 600)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be 0.01 to 600, got " + seconds);
            }
            bertj.bench.kernels.Roofline.run(threads.stream().mapToInt(Integer::intValue).toArray(), seconds,
                    spec.commandLine().getOut());
            return OK;
        }
    }

    @Command(name = "bertj bench classifier-model", sortOptions = false,
            description = {"Write a sequence classification model with seeded random weights, for 'bertj bench oneshot -- classify "
                    + "DIR TEXT': random-model's encoder and pooler plus a classifier head (BertForSequenceClassification). "
                    + "The defaults give a cross-encoder's shape (ms-marco-MiniLM-L-6-v2: 6 layers, hidden 384, one label)."})
    static final class ClassifierModelCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "OUT_DIR", description = "The directory to write (created if missing).")
        Path outDir;

        @Option(names = "--config", paramLabel = "NAME", defaultValue = "minilm", description = "minilm (default) or bert-base.")
        String config;

        @Option(names = "--labels", paramLabel = "N", defaultValue = "1", description = "Labels of the head (default ${DEFAULT-VALUE}).")
        int labels;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "" + RandomModel.DEFAULT_SEED, description = "Seed of the weights (default ${DEFAULT-VALUE}).")
        long seed;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            BertConfig shape;
            try {
                shape = RandomModel.Shape.of(config).config();
                if (labels < 1) throw new IllegalArgumentException("--labels must be at least 1, got " + labels);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            ClassifierModel.write(outDir, shape, labels, seed);
            spec.commandLine().getOut().println("wrote " + outDir + ": " + config + " with a classifier head of " + labels
                    + (labels == 1 ? " label" : " labels") + ", seed " + seed);
            return OK;
        }
    }

    @Command(name = "bertj bench precision", sortOptions = false,
            description = {"How far bf16 and int8 weights move the outputs from fp32's, on a JSON Lines corpus: per "
                    + "precision the least and mean cosine of each text's sentence embedding with fp32's, and the "
                    + "largest absolute difference of last_hidden_state over real tokens.",
                    "With --onnxruntime and --onnxruntime-reduced, the same for ONNX Runtime's quantized model "
                            + "against its float32 one, on the same batches."})
    static final class PrecisionCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = "A Hugging Face model directory or 'default'.")
        String model;

        @Parameters(index = "1", paramLabel = "FILE.jsonl", description = "The corpus, e.g. bench/corpus/mixed-1000.jsonl.")
        Path corpus;

        @Option(names = "--precision", split = ",", paramLabel = "P", defaultValue = "bf16,int8",
                converter = PrecisionOption.Parse.class, description = "Precisions to compare with fp32 (default ${DEFAULT-VALUE}).")
        List<Precision> precisions;

        @Option(names = "--threads", paramLabel = "T", defaultValue = "2", description = "Threads (default ${DEFAULT-VALUE}).")
        int threads;

        @Option(names = "--onnxruntime", paramLabel = "FILE.onnx", description = "The model as float32 ONNX, or 'default'.")
        String onnx;

        @Option(names = "--onnxruntime-reduced", paramLabel = "FILE.onnx", description = "The same model quantized (.onnx, or a jar holding one).")
        String onnxReduced;

        @CommandLine.Mixin
        StandardOptions standard;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            var options = new PrecisionAccuracy.Options(ModelArgument.resolve(model), corpus, precisions,
                    onnx == null ? null : OneShot.onnxFile(onnx), onnxReduced == null ? null : OneShot.onnxFile(onnxReduced),
                    threads);
            PrecisionAccuracy.run(options, spec.commandLine().getOut());
            return OK;
        }
    }

    /** --debug and --help, as every command has them. */
    static final class StandardOptions {
        @Option(names = "--debug", description = "Show the stack trace of an error.")
        boolean debug;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;
    }

    /** --launcher of the commands that run the bertj CLI. */
    static final class LauncherOption {
        @Option(names = "--launcher", paramLabel = "FILE", description = "The bertj launcher (default: the system property bertj.launcher, ./bertj).")
        Path launcher;

        /** The launcher given, else the system property bertj.launcher that ./bertj sets, else ./bertj. */
        Path path() {
            return launcher != null ? launcher : Path.of(System.getProperty("bertj.launcher", "./bertj"));
        }
    }
}
