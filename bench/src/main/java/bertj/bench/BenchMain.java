package bertj.bench;

import bertj.tools.DefaultModel;
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

    /** The side-by-side command line; returns the exit code, never exits the JVM. */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new SideBySideCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("bertj: " + e.getMessage());
            err.print(e.getCommandLine().getHelp().fullSynopsis());
            err.println("Try 'bertj bench --help' for more information.");
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
            footer = {"", "Also: 'bertj bench gemm ...' (matmul kernel GFLOP/s), 'bertj bench jmh [JMH options]'."})
    static final class SideBySideCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = DefaultModel.MODEL_HELP)
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
                description = "The same model as ONNX (e.g. from 'bertj export-onnx'); without it only bertj is timed.")
        Path onnx;

        @Option(names = "--debug", description = "Show the stack trace of an error.")
        boolean debug;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try {
                SideBySide.Options.checkFlags(seqLens, batch, threads, runs, warmup);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            var options = new SideBySide.Options(DefaultModel.resolveModel(model), onnx, seqLens, batch, threads, runs, warmup, seed);
            SideBySide.run(options, spec.commandLine().getOut());
            return OK;
        }
    }
}
