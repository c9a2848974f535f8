package bertj.testsupport;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Seeded random-mutation fuzzing under JUnit, bounded by executions and by time.
 *
 * <p>Every input must end in a result or in an exception the target documents, with a message. Anything else
 * is a failure: another exception or an {@link Error}, a run longer than {@link #HANG_MILLIS}, or a heap
 * allocation far beyond what the input's size explains (a length or count read from the file and trusted).
 * Failures are told apart by exception type and throwing frame, saved under {@code target/fuzz-failures/TARGET/},
 * and reported together at the end of the run. The inputs kept in {@code src/test/resources/fuzz-corpus/TARGET/}
 * (crashers once found, now fixed) are replayed before any mutation on every run.
 *
 * <p>Both paths belong to the module whose tests call the harness: the corpus is looked up on the test class path
 * as the resource {@code /fuzz-corpus/TARGET} (this module has none of its own), and failures are written relative
 * to the working directory, which Surefire sets to the module's directory. This class lives in bertj-test-support,
 * which loader, tokenizer, engine and tools use with test scope only.
 *
 * <p>Budgets: the normal build spends about {@link #DEFAULT_MILLIS} ms and at most {@link #DEFAULT_EXECUTIONS}
 * executions on each target. {@code -Dbertj.fuzz.seconds=N} and {@code -Dbertj.fuzz.executions=N} set either budget
 * (the run stops at whichever is spent first; one given alone lifts the other): the long mode is
 * {@code -Dbertj.fuzz.executions=1000000 -Dbertj.fuzz.seconds=300}.
 *
 * <p>Seeds: every JVM draws a new seed for its runs, so that each build mutates differently and keeps looking
 * instead of replaying the same inputs; it is printed with every target's summary and named in every failure,
 * with the command that replays the run ({@code -Dbertj.fuzz.seed=S}, each target mutating from {@code S} mixed
 * with its name). {@code -Dbertj.fuzz.replay=FILE} runs a single saved input.
 */
public final class FuzzHarness {
    static final long DEFAULT_MILLIS = 1500;
    static final long DEFAULT_EXECUTIONS = 20_000;
    /** This JVM's seed: {@code -Dbertj.fuzz.seed}, else a new one on every run. */
    static final long SEED = Long.getLong("bertj.fuzz.seed", new java.security.SecureRandom().nextLong());
    /** Longer than any input of these targets needs by orders of magnitude, even on a loaded machine. */
    static final long HANG_MILLIS = 20_000;
    /** Heap allowance per input: a fixed amount plus this many bytes per input byte. */
    static final long ALLOCATION_BASE = 64L << 20, ALLOCATION_PER_BYTE = 512;

    /** Heap an input may take: {@code base} plus {@code perByte} per input byte (see {@link Fuzzing#allowing}). */
    public record Allowance(long base, long perByte) {
        static final Allowance DEFAULT = new Allowance(ALLOCATION_BASE, ALLOCATION_PER_BYTE);

        long of(byte[] input) {
            return base + perByte * input.length;
        }
    }
    /** Mutants larger than this are cut, to keep executions fast. */
    static final int MAX_INPUT_BYTES = 1 << 20;
    /** A message may quote its input, but not run to many times its size (a sign of runaway formatting). */
    static final int MAX_MESSAGE_CHARS = 4000, MESSAGE_CHARS_PER_INPUT_BYTE = 16;

    /** The code under test; returns normally or throws. */
    public interface Target {
        void run(byte[] input) throws Exception;
    }

    /** Makes a new input from a parent, with the pool of earlier inputs for splicing. */
    public interface Mutator {
        byte[] mutate(Random random, byte[] parent, List<byte[]> pool);
    }

    /** One distinct failure: what went wrong, the first input that showed it, and where that input was saved. */
    public record Failure(String signature, String detail, byte[] input, Path saved) {
    }

    /**
     * What a run did; {@link #assertNoFailures()} fails the test if it found anything. {@code replay} is the command
     * line that runs the same target with the same seed.
     */
    public record Report(String target, long seed, long executions, long accepted, long rejected, long millis, List<Failure> failures,
                         String replay) {
        public void assertNoFailures() {
            if (failures.isEmpty()) return;
            StringBuilder sb = new StringBuilder("fuzz target " + target + " (seed " + seed + "): " + failures.size() + " distinct failure(s)");
            for (Failure f : failures) sb.append("\n- ").append(f.signature).append(" (input saved as ").append(f.saved).append(")\n  ").append(f.detail);
            sb.append("\nReplay this run: ").append(replay).append(" -Dbertj.fuzz.seed=").append(seed);
            sb.append("\nReplay one input: ").append(replay).append(" -Dbertj.fuzz.replay=FILE");
            sb.append("\nOnce fixed, copy each saved input to src/test/resources/fuzz-corpus/").append(target)
                    .append("/ so every run replays it, and add a regression test that checks its outcome.");
            throw new AssertionError(sb.toString());
        }
    }

    private FuzzHarness() {
    }

    /**
     * Runs {@code target} on the kept corpus, the seeds, then mutants of them until the budget is spent.
     *
     * @param documented the exceptions an input may end in (their message is also checked)
     */
    public static Report run(String target, List<byte[]> seeds, Mutator mutator, Target code, Predicate<Throwable> documented) {
        return run(target, seeds, mutator, code, documented, Allowance.DEFAULT);
    }

    private static Report run(String target, List<byte[]> seeds, Mutator mutator, Target code, Predicate<Throwable> documented,
                              Allowance allowance) {
        String replayFile = System.getProperty("bertj.fuzz.replay");
        if (replayFile != null) return replay(target, Path.of(replayFile), code);
        long seconds = Long.getLong("bertj.fuzz.seconds", 0), executions = Long.getLong("bertj.fuzz.executions", 0);
        long millis = seconds > 0 ? seconds * 1000 : executions > 0 ? Long.MAX_VALUE / 2_000_000 : DEFAULT_MILLIS;
        long maxExecutions = executions > 0 ? executions : seconds > 0 ? Long.MAX_VALUE : DEFAULT_EXECUTIONS;
        String replayCommand = replayCommand();
        List<byte[]> replay = new ArrayList<>(corpus(target));
        replay.addAll(seeds);
        Loop loop = new Loop(target, replay, mutator, code, documented, allowance, new Random(SEED ^ target.hashCode()), millis,
                maxExecutions);
        // a thread of its own, so that a hang can be reported (it is left running: Java cannot stop it)
        Thread worker = new Thread(null, loop, "fuzz-" + target, 64L << 20);
        worker.setDaemon(true);
        // the loop's own trouble (say, a mutant too large for the heap) fails the run instead of ending it quietly
        worker.setUncaughtExceptionHandler((t, e) -> loop.record("fuzz loop died: " + e.getClass().getName(), stackTrace(e), loop.current));
        worker.start();
        try {
            while (worker.isAlive()) {
                worker.join(100);
                long started = loop.startedNanos;
                if (worker.isAlive() && started != 0 && System.nanoTime() - started > HANG_MILLIS * 1_000_000) {
                    byte[] input = loop.current;
                    StringBuilder where = new StringBuilder("no result after " + HANG_MILLIS + " ms; worker at:");
                    for (StackTraceElement e : worker.getStackTrace()) where.append("\n    at ").append(e);
                    loop.record("hang", where.toString(), input);
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while fuzzing " + target, e);
        }
        Report report = new Report(target, SEED, loop.executions, loop.accepted, loop.rejected,
                (System.nanoTime() - loop.startNanos) / 1_000_000, List.copyOf(loop.failures.values()), replayCommand);
        System.out.printf("fuzz %-24s %8d executions in %6.1f s: %d accepted, %d rejected with a documented exception, "
                        + "%d distinct failures (seed %d)%n", target, report.executions(), report.millis() / 1000.0,
                report.accepted(), report.rejected(), report.failures().size(), SEED);
        return report;
    }

    /**
     * The command that runs the calling test method alone, from the project's root: the caller is the first frame
     * outside this class, and Surefire runs a module's tests in the module's directory.
     */
    private static String replayCommand() {
        StackWalker.StackFrame caller = StackWalker.getInstance().walk(frames ->
                frames.filter(f -> !f.getClassName().equals(FuzzHarness.class.getName())
                        && !f.getClassName().startsWith(FuzzHarness.class.getName() + "$")).findFirst()).orElseThrow();
        String module = Path.of("").toAbsolutePath().getFileName().toString();
        String testClass = caller.getClassName().substring(caller.getClassName().lastIndexOf('.') + 1);
        return "./bertj test -pl " + module + " -am -Dtest=" + testClass + "#" + caller.getMethodName()
                + " -Dsurefire.failIfNoSpecifiedTests=false";
    }

    /**
     * {@code -Dbertj.fuzz.replay=FILE}: runs the target on that one input in the calling thread and lets whatever
     * it throws propagate, with its whole stack trace (together with {@code -Dtest=Class#method}).
     */
    private static Report replay(String target, Path file, Target code) {
        try {
            code.run(Files.readAllBytes(file));
        } catch (Throwable t) {
            throw new AssertionError("fuzz target " + target + " on " + file + ": " + t, t);
        }
        System.out.printf("fuzz %-24s %s: accepted%n", target, file);
        return new Report(target, SEED, 1, 1, 0, 0, List.of(), replayCommand());
    }

    /** One input of the corpus, {@code src/test/resources/fuzz-corpus/TARGET/NAME}, for the regression test that checks its outcome. */
    public static byte[] corpusInput(String target, String name) {
        try (var in = FuzzHarness.class.getResourceAsStream("/fuzz-corpus/" + target + "/" + name)) {
            if (in == null) throw new IllegalArgumentException("no fuzz-corpus/" + target + "/" + name + " on the test class path");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The inputs kept under the calling module's src/test/resources/fuzz-corpus/TARGET/, in name order. */
    static List<byte[]> corpus(String target) {
        URL dir = FuzzHarness.class.getResource("/fuzz-corpus/" + target);
        if (dir == null) return List.of();
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            List<byte[]> out = new ArrayList<>();
            for (Path f : files.sorted().toList()) out.add(Files.readAllBytes(f));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Heap bytes allocated so far by the calling thread. */
    public static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * A directory for the files a target writes on every execution, deleted by {@link Scratch#close()}: in
     * /dev/shm when the machine has one, since rewriting a file on disk costs milliseconds (20 times the parse).
     */
    public static Scratch scratch() throws IOException {
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return new Scratch(Files.createTempDirectory(base, "bertj-fuzz-"));
    }

    public record Scratch(Path dir) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static final class Loop implements Runnable {
        private final String target;
        private final List<byte[]> replay;
        private final List<byte[]> pool;
        private final Mutator mutator;
        private final Target code;
        private final Predicate<Throwable> documented;
        private final Allowance allowance;
        private final Random random;
        private final long millis;
        private final long maxExecutions;
        final long startNanos = System.nanoTime();
        final Map<String, Failure> failures = new LinkedHashMap<>();
        volatile long startedNanos;
        volatile byte[] current;
        volatile long executions, accepted, rejected;

        Loop(String target, List<byte[]> replay, Mutator mutator, Target code,
             Predicate<Throwable> documented, Allowance allowance, Random random, long millis, long maxExecutions) {
            this.allowance = allowance;
            this.target = target;
            this.replay = replay;
            this.pool = new ArrayList<>(replay);
            this.mutator = mutator;
            this.code = code;
            this.documented = documented;
            this.random = random;
            this.millis = millis;
            this.maxExecutions = maxExecutions;
        }

        @Override
        public void run() {
            for (byte[] input : replay) execute(input);
            long budgetNanos = millis * 1_000_000;
            while (executions < maxExecutions && System.nanoTime() - startNanos < budgetNanos && !pool.isEmpty()) {
                byte[] parent = pool.get(random.nextInt(pool.size()));
                byte[] input;
                try {
                    input = mutator.mutate(random, parent, pool);
                } catch (RuntimeException | StackOverflowError e) {
                    continue; // the mutator's own trouble (e.g. a parent too deeply nested to parse) is not a finding
                }
                if (input.length > MAX_INPUT_BYTES) input = java.util.Arrays.copyOf(input, MAX_INPUT_BYTES);
                if (execute(input) && pool.size() < 512) pool.add(input); // valid inputs breed deeper ones
            }
        }

        /** Runs one input; true when it was accepted. */
        private boolean execute(byte[] input) {
            current = input;
            startedNanos = System.nanoTime();
            Verdict v = judge(input, code, documented, allowance);
            startedNanos = 0;
            executions++;
            if (v.failed()) {
                record(v.signature(), v.detail(), input);
                return false;
            }
            if (v.accepted()) accepted++;
            else rejected++;
            return v.accepted();
        }

        synchronized void record(String signature, String detail, byte[] input) {
            if (failures.containsKey(signature)) return;
            failures.put(signature, new Failure(signature, detail, input, save(target, signature, detail, input)));
        }
    }

    /** Saves a failing input and its stack trace under target/fuzz-failures/TARGET/; returns where the input went. */
    private static Path save(String target, String signature, String detail, byte[] input) {
        Path dir = Path.of("target", "fuzz-failures", target);
        Path saved = dir.resolve(sha1(input) + ".bin");
        try {
            Files.createDirectories(dir);
            Files.write(saved, input);
            Files.write(dir.resolve(sha1(input) + ".txt"), (signature + "\n" + detail + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            saved = Path.of("(not saved: " + e.getMessage() + ")");
        }
        return saved;
    }

    /** What one execution came to: accepted, rejected with a documented exception, or a failure with its signature. */
    private record Verdict(boolean accepted, String signature, String detail) {
        static final Verdict ACCEPTED = new Verdict(true, null, null), REJECTED = new Verdict(false, null, null);

        boolean failed() {
            return signature != null;
        }
    }

    /**
     * Runs the code on one input and judges the outcome: a failure is an undocumented exception or an Error, a
     * documented one without a message or with one far longer than the input, or more heap than the input explains.
     */
    private static Verdict judge(byte[] input, Target code, Predicate<Throwable> documented, Allowance allowances) {
        long before = allocatedBytes();
        Throwable thrown = null;
        try {
            code.run(input);
        } catch (Throwable t) {
            thrown = t;
        }
        long allocated = allocatedBytes() - before;
        long allowance = allowances.of(input);
        if (allocated > allowance) {
            // Confirmed by a second run: what happens once in a JVM (a class initialized, a cache filled, an
            // instrumenting agent's own bookkeeping on this thread) is not the input's doing.
            long again = allocatedBytes();
            try {
                code.run(input);
            } catch (Throwable t) {
                // judged by the first run
            }
            long second = allocatedBytes() - again;
            if (second > allowance) {
                return new Verdict(false, "allocation", "allocated " + (allocated >> 20) + " MiB of heap for a " + input.length
                        + "-byte input (" + (second >> 20) + " MiB run again)" + (thrown == null ? "" : ", then " + stackTrace(thrown)));
            }
        }
        if (thrown == null) return Verdict.ACCEPTED;
        String message = thrown.getMessage();
        if (!documented.test(thrown)) {
            return new Verdict(false, thrown.getClass().getName() + " at " + firstFrame(thrown), stackTrace(thrown));
        } else if (message == null || message.isBlank()) {
            return new Verdict(false, "no message: " + thrown.getClass().getName() + " at " + firstFrame(thrown), stackTrace(thrown));
        } else if (message.length() > MAX_MESSAGE_CHARS + MESSAGE_CHARS_PER_INPUT_BYTE * (long) input.length) {
            return new Verdict(false, "message many times longer than its input: " + thrown.getClass().getName() + " at " + firstFrame(thrown),
                    message.length() + " chars: " + message.substring(0, 300) + "...");
        }
        return Verdict.REJECTED;
    }

    // ------------------------------------------------------------------ coverage-guided: Jazzer

    /**
     * A fuzz target: its name, seeds, mutator, the code under test and the exceptions it documents. {@link #run()} fuzzes
     * it with seeded random mutations; {@link #guided} executes it once under Jazzer.
     */
    public record Fuzzing(String target, List<byte[]> seeds, Mutator mutator, Target code, Predicate<Throwable> documented,
                          Allowance allowance) {
        public Fuzzing(String target, List<byte[]> seeds, Mutator mutator, Target code, Predicate<Throwable> documented) {
            this(target, seeds, mutator, code, documented, Allowance.DEFAULT);
        }

        /**
         * The same target with another heap allowance per input: for code whose work, and so its garbage, grows with
         * the input beyond parsing it (a model's forward pass), where the default would flag work instead of trust.
         */
        public Fuzzing allowing(long base, long perByte) {
            return new Fuzzing(target, seeds, mutator, code, documented, new Allowance(base, perByte));
        }

        public Report run() {
            return FuzzHarness.run(target, seeds, mutator, code, documented, allowance);
        }

        /**
         * One execution driven by Jazzer, from a {@code @FuzzTest}: with {@code JAZZER_FUZZ=1} coverage-guided (libFuzzer
         * keeps the inputs that reach new branches of the instrumented code and mutates those), else once on each input
         * Jazzer saved for the test. The fuzzer's bytes make every choice: which corpus input or seed to start from, how
         * many mutations, and each random choice of the mutator. So the guidance steers the same structure-aware mutations
         * as {@link #run()}, and the input is judged as there; a failure saves the input itself (not the choices) under
         * target/fuzz-failures/ and throws, which Jazzer reports as its finding.
         */
        public void guided(FuzzedDataProvider data) {
            List<byte[]> starts = GUIDED_STARTS.computeIfAbsent(target, t -> {
                List<byte[]> all = new ArrayList<>(corpus(t));
                all.addAll(seeds);
                return List.copyOf(all);
            });
            Random choices = new DataRandom(data);
            byte[] input = starts.get(choices.nextInt(starts.size()));
            try {
                // up to 15 mutations in a row: the depth the random runs reach by mutating their own mutants
                for (int n = choices.nextInt(16); n > 0; n--) input = mutator.mutate(choices, input, starts);
            } catch (RuntimeException | StackOverflowError e) {
                return; // the mutator's own trouble is not a finding, as in run()
            }
            if (input.length > MAX_INPUT_BYTES) input = java.util.Arrays.copyOf(input, MAX_INPUT_BYTES);
            Verdict v = judge(input, code, documented, allowance);
            if (v.failed()) {
                Path saved = save(target, v.signature(), v.detail(), input);
                throw new AssertionError("fuzz target " + target + ": " + v.signature() + " (input saved as " + saved + ")\n  " + v.detail()
                        + "\nOnce fixed, copy the saved input to src/test/resources/fuzz-corpus/" + target
                        + "/ so every run replays it, and add a regression test that checks its outcome.");
            }
        }
    }

    /** The long mode's budget, for the {@code @FuzzTest} annotations of the guided variants (Jazzer stops at either). */
    public static final String GUIDED_DURATION = "5m";
    public static final long GUIDED_EXECUTIONS = 1_000_000;
    /** The JUnit tag of the guided variants, which the normal build leaves out (the parent pom's excludedGroups). */
    public static final String GUIDED = "guided";

    /** Per target, the corpus and seeds that guided executions start from (the same for every execution of a run). */
    private static final Map<String, List<byte[]>> GUIDED_STARTS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A Random whose choices are read from the fuzzer's bytes, so that coverage guidance steers them. Once the bytes
     * run out it goes on with a fixed pseudo-random sequence, not with zeros: Random's own rejection loops
     * ({@code nextGaussian} draws until a point falls inside the unit circle) never end on a constant.
     */
    private static final class DataRandom extends Random {
        private static final long serialVersionUID = 1L;
        private final transient FuzzedDataProvider data;
        private final Random rest = new Random(0x5EED_BE27L);

        DataRandom(FuzzedDataProvider data) {
            super(0);
            this.data = data;
        }

        @Override
        protected int next(int bits) {
            int v = data.remainingBytes() >= Integer.BYTES ? data.consumeInt() : rest.nextInt();
            return v >>> (32 - bits);
        }
    }

    /** The innermost frame in bertj's main code (not this harness or a test), else the top frame. */
    static String firstFrame(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            String c = e.getClassName();
            if (c.startsWith("bertj.") && !c.contains("Fuzz") && !c.endsWith("Test")) return e.toString();
        }
        return t.getStackTrace().length > 0 ? t.getStackTrace()[0].toString() : "?";
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String s = w.toString();
        return s.length() > 3000 ? s.substring(0, 3000) + "..." : s;
    }

    private static String sha1(byte[] input) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(input)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
