package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import bertj.testsupport.GuidedTargets;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of the CLI's JSON Lines commands (tokenize, encode, embed) through {@link Main#run}, on a tiny model:
 * the flags and the lines on stdin are mutated. Every run must end with exit code 0, 1 or 2, every stdout line
 * must be a JSON object (one per input line when the run succeeds), and no exception but a documented one may
 * reach the user (runs use {@code --debug}, so an escaping exception shows its type on stderr).
 */
class CliFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What a command may fail with: bad files, impossible requests, bad arguments, bad flags. */
    private static final Set<String> DOCUMENTED = Set.of("bertj.loader.ModelFormatException", "bertj.loader.onnx.OnnxFormatException",
            "bertj.tokenizer.TokenizerException", "bertj.loader.hub.HubException", "java.lang.IllegalArgumentException");
    /** The first line of a stack trace printed by --debug (not a "Caused by:" line). */
    private static final Pattern TRACE_START = Pattern.compile("^([\\w$]+(?:\\.[\\w$]+)+(?:Exception|Error))(?::.*)?$");
    private static final List<String> WORDS = List.of("tokenize", "encode", "embed", "--max-length", "--truncation", "--padding",
            "--stride", "--all-layers", "--truncate", "--pooling", "--normalize", "--no-normalize", "longest_first", "only_first",
            "only_second", "longest", "max_length", "cls", "mean", "max", "0", "-1", "1", "2", "63", "64", "65", "2147483647",
            "--", "-", "text", "text_pair", "{\"text\": \"a b c\"}", "{\"text\": \"x\", \"text_pair\": \"y\"}");

    private static final int MAX_COMMAND_LINE_BYTES = 256;

    private FuzzHarness.Scratch scratch;
    private Path model;
    private final GuidedTargets guided = new GuidedTargets();

    @BeforeEach
    void createModel() throws IOException, URISyntaxException {
        scratch = FuzzHarness.scratch();
        // tiny-bert with the first 3000 tokens of its vocabulary, so that each run loads in a few milliseconds
        Path source = Fixtures.model("tiny-bert");
        model = Files.createDirectories(scratch.dir().resolve("tiny-bert"));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer_config.json")) Files.copy(source.resolve(f), model.resolve(f));
        List<String> vocab = Files.readAllLines(source.resolve("vocab.txt")).subList(0, 3000);
        Files.write(model.resolve("vocab.txt"), vocab);
    }

    @AfterEach
    void deleteModel() throws IOException {
        scratch.close();
    }

    @Test
    void jsonLinesCommands() {
        jsonLines().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void jsonLinesCommandsGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "cli-json-lines", this::jsonLines);
    }

    private FuzzHarness.Fuzzing jsonLines() {
        String lines = """
                {"text": "Hello, world! unaffable"}
                {"text": "A man is playing a guitar.", "text_pair": "Someone is making music."}
                {"text": ""}
                {"text": "Caf\\u00e9 d\\u00e9j\\u00e0 vu \\u6771\\u4eac \\ud83d\\ude00"}
                {"text": null}
                """;
        List<byte[]> seeds = new ArrayList<>();
        for (String args : List.of("tokenize", "tokenize --max-length 8 --stride 2", "tokenize --padding longest",
                "tokenize --padding max_length --max-length 12 --truncation only_second", "encode", "encode --all-layers --max-length 16",
                "encode --truncate", "embed --pooling mean --normalize", "embed")) {
            seeds.add(FuzzMutator.join(List.of(args.getBytes(StandardCharsets.UTF_8), lines.getBytes(StandardCharsets.UTF_8))));
        }
        FuzzMutator m = new FuzzMutator(WORDS);
        FuzzHarness.Mutator stdin = (r, in, pool) -> mutateLines(m, r, in, pool);
        // encode and embed run the model: until the JIT has compiled the kernels, the Vector API's boxed fallback leaves
        // about 1 MiB of garbage per token (a cold run embedding 74 tokens allocated 61-86 MiB), which is work, not trust
        return new FuzzHarness.Fuzzing("cli-json-lines", seeds, FuzzMutator.perPart(List.of(m::bytes, stdin)), this::runCli, t -> false)
                .allowing(64L << 20, 2L << 20);
    }

    /** Most of the time one line changed as JSON; else lines dropped, repeated or added, or bytes changed. */
    private static byte[] mutateLines(FuzzMutator m, Random r, byte[] input, List<byte[]> pool) {
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= input.length; i++) {
            if (i == input.length || input[i] == '\n') {
                lines.add(Arrays.copyOfRange(input, start, i));
                start = i + 1;
            }
        }
        int at = r.nextInt(lines.size());
        switch (r.nextInt(6)) {
            case 0, 1, 2 -> lines.set(at, m.json(r, lines.get(at), pool));
            case 3 -> lines.add(at, r.nextBoolean() ? lines.get(at) : JSON.createObjectNode()
                    .put("text", FuzzMutator.randomString(r, r.nextInt(10) == 0 ? 20_000 : 200)).toString().getBytes(StandardCharsets.UTF_8));
            case 4 -> { if (lines.size() > 1) lines.remove(at); }
            default -> { return m.bytes(r, input, pool); }
        }
        byte[] out = new byte[0];
        for (int i = 0; i < lines.size(); i++) out = FuzzMutator.concat(i == 0 ? out : FuzzMutator.concat(out, new byte[] {'\n'}), lines.get(i));
        return out;
    }

    /**
     * Found by a 60 s run: {@code tokenize --padding max_length --max-length 2147483647} ran out of memory laying out
     * the first line. The length is refused before anything is allocated for it, line by line.
     */
    @Test
    void paddingToAMaxLengthOfTwoBillionIsRefusedLineByLine() throws IOException {
        Run run = execute(FuzzHarness.corpusInput("cli-json-lines", "padding-to-max-length-2147483647.bin"));
        check(run);
        assertEquals(Main.ERROR, run.code());
        List<String> lines = run.stdout().lines().toList();
        assertEquals(5, lines.size());
        for (int i = 0; i < 4; i++) {
            assertEquals("line " + (i + 1) + ": padding to maxLength 2147483647 tokens: over the limit of 65536 tokens an encoding may be"
                    + " padded to", JSON.readTree(lines.get(i)).path("error").textValue());
        }
        assertEquals("line 5: \"text\" must be a string", JSON.readTree(lines.get(4)).path("error").textValue());
    }

    /**
     * Found by a long run: a trailing blank line, which JsonLines skips as JSON Lines readers do, was counted by this
     * test as a line owed an answer. One answer per line that is not blank.
     */
    @Test
    void aTrailingBlankLineIsSkipped() throws IOException {
        Run run = execute(FuzzHarness.corpusInput("cli-json-lines", "trailing-blank-line.bin"));
        check(run);
        assertEquals(Main.OK, run.code(), run.stderr());
        assertEquals(4, run.stdout().lines().count());
    }

    /**
     * Found by a long run: embedding a random 300-character line and two others, while the JIT had not yet compiled the
     * kernels, allocated 65 MiB of heap (garbage of the Vector API's fallback), over the default allowance for a 528-byte
     * input. This target's allowance counts the forward pass's work; the lines are answered.
     */
    @Test
    void embeddingWhileTheKernelsAreColdIsWorkNotTrust() throws IOException {
        Run run = execute(FuzzHarness.corpusInput("cli-json-lines", "embed-while-the-kernels-are-cold.bin"));
        check(run);
        assertEquals(Main.ERROR, run.code());
        List<String> lines = run.stdout().lines().toList();
        assertEquals(6, lines.size());
        assertEquals("line 2: \"text_pair\" is not supported: a sentence embedding is of one text",
                JSON.readTree(lines.get(1)).path("error").textValue());
        assertEquals("line 6: \"text\" must be a string", JSON.readTree(lines.get(5)).path("error").textValue());
        for (int i : new int[] {0, 2, 3, 4}) assertEquals(32, JSON.readTree(lines.get(i)).path("embedding").size(), "line " + (i + 1));
    }

    /**
     * Found by the normal suite's random seed once models could be named: {@code embed jHelld@main MODEL} takes the
     * name as the model (and the directory as a text). The Hub's {@code HubException} is a documented error: one
     * "bertj: " line that says where it looked, exit code 1. The tests' Hub is a closed port on 127.0.0.1 (the pom).
     */
    @Test
    void aModelNameThatNoHubServesIsAnError() throws IOException {
        Run run = execute(FuzzHarness.corpusInput("cli-json-lines", "model-name-that-no-hub-serves.bin"));
        check(run);
        assertEquals(Main.ERROR, run.code());
        String last = run.stderr().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("bertj: cannot reach http://127.0.0.1:9 for jHelld@main: config.json: "), last);
        assertTrue(last.contains("jHelld is not in the cache"), last);
        assertEquals("", run.stdout());
    }

    /** What one run of the CLI printed. */
    private record Run(List<String> args, byte[] stdin, int code, String stdout, String stderr) {
    }

    /** Runs {@code bertj ARGS MODEL --debug} with the lines on stdin and checks what the user sees. */
    private void runCli(byte[] input) throws IOException {
        check(execute(input));
    }

    private Run execute(byte[] input) {
        List<byte[]> parts = FuzzMutator.split(input);
        List<String> args = new ArrayList<>();
        // a command line of reasonable length: picocli's suggestions for a 20 kB unknown flag cost 200 MB
        byte[] flags = Arrays.copyOf(parts.get(0), Math.min(parts.get(0).length, MAX_COMMAND_LINE_BYTES));
        for (String a : new String(flags, StandardCharsets.UTF_8).split(" ")) if (!a.isEmpty()) args.add(a);
        args.add(model.toString());
        args.add("--debug");
        byte[] stdin = parts.size() > 1 ? parts.get(1) : new byte[0];
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new ByteArrayInputStream(stdin), new PrintWriter(out), new PrintWriter(err));
        return new Run(args, stdin, code, out.toString(), err.toString());
    }

    /** Exit code 0, 1 or 2; no undocumented exception; "bertj: " last on an error; JSON objects, one per line when it succeeds. */
    private static void check(Run run) throws IOException {
        List<String> args = run.args();
        byte[] stdin = run.stdin();
        int code = run.code();
        String stderr = run.stderr();
        if (code < 0 || code > 2) throw new AssertionError("exit code " + code + ", stderr: " + stderr);
        for (String line : stderr.lines().toList()) {
            Matcher trace = TRACE_START.matcher(line);
            if (trace.matches() && !DOCUMENTED.contains(trace.group(1)) && !trace.group(1).startsWith("picocli.CommandLine$")) {
                throw new AssertionError(trace.group(1) + " reached the user: " + abbreviate(stderr));
            }
        }
        if (code == Main.ERROR && !stderr.lines().reduce((a, b) -> b).orElse("").startsWith("bertj: ")) {
            throw new AssertionError("exit code 1 without a 'bertj: ' message last on stderr: " + abbreviate(stderr));
        }
        List<String> stdout = run.stdout().lines().toList();
        // --help and --version (also as -h, -V, or in a cluster of short options) print text, not JSON
        if (!stdout.isEmpty() && (stdout.getFirst().startsWith("bertj ") || stdout.getFirst().startsWith("Usage: "))) return;
        for (String line : stdout) {
            JsonNode node = JSON.readTree(line);
            if (node == null || !node.isObject()) throw new AssertionError("stdout line is not a JSON object: " + abbreviate(line));
        }
        // one answer per line that is not blank (JSON white space only, a byte order mark first), as JsonLines skips those
        List<String> all = new BufferedReader(new StringReader(new String(stdin, StandardCharsets.UTF_8))).lines().toList();
        long inputLines = 0;
        for (int i = 0; i < all.size(); i++) {
            String line = i == 0 && all.get(i).startsWith("\uFEFF") ? all.get(i).substring(1) : all.get(i);
            if (!line.chars().allMatch(c -> c == ' ' || c == '\t' || c == '\r')) inputLines++;
        }
        boolean readsStdin = !args.isEmpty() && List.of("tokenize", "encode").contains(args.getFirst());
        if (code == Main.OK && readsStdin && stdout.size() != inputLines) {
            throw new AssertionError(inputLines + " input lines but " + stdout.size() + " output lines");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 2000 ? s : s.substring(0, 2000) + "...";
    }
}
