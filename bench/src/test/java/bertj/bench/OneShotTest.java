package bertj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static bertj.bench.SideBySideTest.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Commands measured from outside: a stand-in launcher (a shell script) keeps these fast. */
class OneShotTest {
    @TempDir
    static Path tmp;
    private static Path onnx;
    /** Prints its arguments and the number of stdin lines to the file named by its first argument. */
    private static Path launcher;

    @BeforeAll
    static void setUp() throws Exception {
        onnx = TinyModels.onnx(TinyModels.model(tmp.resolve("model"), 1), tmp.resolve("model.onnx"));
        launcher = tmp.resolve("bertj");
        Files.writeString(launcher, "#!/bin/sh\nout=$1; shift\necho \"$@\" > \"$out\"\nwc -l >> \"$out\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void measuresWallTimeAndPeakMemoryOfACommand() throws Exception {
        Path out = tmp.resolve("measured.txt");
        OneShot.Measurement m = OneShot.measure(OneShot.cli(launcher, List.of(out.toString(), "embed", "default", "hello")), null);
        assertTrue(m.wallNanos() > 0);
        assertTrue(m.peakRssKib() > 100, "a shell takes more than 100 KiB: " + m.peakRssKib());
        assertEquals(List.of("embed default hello", "0"), Files.readAllLines(out));
    }

    @Test
    void aFailingCommandIsAnErrorWithItsStatusAndStderr() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> OneShot.measure(List.of("/bin/sh", "-c", "echo broken >&2; exit 3"), null));
        assertTrue(e.getMessage().contains("status 3") && e.getMessage().contains("broken"), e.getMessage());
    }

    @Test
    void theLauncherIsPutInFrontOnceAndMustExist() {
        assertEquals(List.of(launcher.toString(), "embed", "x"), OneShot.cli(launcher, List.of("embed", "x")));
        assertEquals(List.of(launcher.toString(), "embed", "x"), OneShot.cli(launcher, List.of(launcher.toString(), "embed", "x")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OneShot.cli(tmp.resolve("no-launcher"), List.of("embed")));
        assertTrue(e.getMessage().contains("no-launcher") && e.getMessage().contains("--launcher"), e.getMessage());
    }

    @Test
    void commandsArePrintedAsAShellTakesThem() {
        assertEquals("./bertj similarity default 'a b' 'it'\\''s' x=1,2",
                OneShot.shell(List.of("./bertj", "similarity", "default", "a b", "it's", "x=1,2")));
    }

    @Test
    void onnxRuntimesOneShotPrintsTheVectorOfTheIds() throws Exception {
        float[] vector = OrtOneShot.embed(onnx, 1, new long[] {101, 7592, 102}, new long[] {1, 1, 1}, new long[3]);
        assertEquals(TinyModels.CONFIG.hiddenSize(), vector.length);
        double norm = 0;
        for (float v : vector) norm += v * v;
        assertEquals(1, norm, 1e-5);
    }

    @Test
    void oneShotsAlternateAndPrintBothCommandsAndTheRatios() throws Exception {
        Path out = tmp.resolve("oneshot.txt");
        var options = new OneShot.OneShotOptions(OneShot.cli(launcher, List.of(out.toString(), "embed", "default", "hello")),
                onnx, 1, OneShot.HELLO_IDS, 2, 1);
        StringWriter text = new StringWriter();
        OneShot.oneShots(options, new PrintWriter(text));
        List<JsonNode> lines = SideBySideTest.parse(text.toString());
        JsonNode bertj = only(lines, l -> l.path("engine").asText().equals("bertj"));
        JsonNode ort = only(lines, l -> l.path("engine").asText().equals("onnxruntime"));
        for (JsonNode line : List.of(bertj, ort)) {
            assertEquals(2, line.get("runs").asInt(), line.toString());
            assertTrue(line.get("median_peak_rss_mb").asDouble() > 0, line.toString());
            assertTrue(line.get("min_s").asDouble() <= line.get("max_s").asDouble(), line.toString());
        }
        assertTrue(bertj.get("command").asText().endsWith("embed default hello"), bertj.toString());
        assertTrue(ort.get("command").asText().contains("bertj.bench.OrtOneShot"), ort.toString());
        assertTrue(ort.get("median_peak_rss_mb").asDouble() > 50, "a JVM with ONNX Runtime: " + ort);
        JsonNode ratio = only(lines, l -> l.has("ratio"));
        assertEquals(bertj.get("median_s").asDouble() / ort.get("median_s").asDouble(), ratio.get("ratio").asDouble(), 0.01);
        assertTrue(ratio.has("peak_rss_ratio"));
    }

    @Test
    void rssGivesTheCommandItsStdinRepeated() throws Exception {
        Path out = tmp.resolve("rss.txt");
        Path stdin = Files.writeString(tmp.resolve("in.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"}"); // no final newline
        StringWriter text = new StringWriter();
        OneShot.rss(OneShot.cli(launcher, List.of(out.toString(), "embed", "default")), stdin, 3, new PrintWriter(text));
        assertEquals(List.of("embed default", "6"), Files.readAllLines(out));
        JsonNode line = SideBySideTest.parse(text.toString()).getFirst();
        assertEquals(6, line.get("stdin_lines").asInt());
        assertEquals(3, line.get("repeat").asInt());
        assertTrue(line.get("peak_rss_mb").asDouble() > 0, line.toString());
    }

    @Test
    void optionsOutOfRangeAreRefusedByName() {
        for (Object[] c : new Object[][] {{0, "1", 1, 0, "--ort-threads"}, {1, "hello", 1, 0, "--ort-ids"},
                {1, "1", 0, 0, "--runs"}, {1, "1", 1, -1, "--warmup"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OneShot.OneShotOptions.checkFlags((int) c[0], (String) c[1], (int) c[2], (int) c[3]));
            assertTrue(e.getMessage().startsWith((String) c[4]), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OneShot.rss(List.of("/bin/true"), tmp.resolve("none.jsonl"), 1, new PrintWriter(new StringWriter())));
        assertTrue(e.getMessage().contains("none.jsonl"), e.getMessage());
    }
}
