package bertj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SideBySideTest {
    private static final Set<String> TIMING_KEYS = Set.of("engine", "seq", "batch", "threads", "median_ms", "p90_ms");
    private static final Set<String> BERTJ_TIMING_KEYS = Set.of("engine", "seq", "batch", "threads", "median_ms", "p90_ms", "precision");
    private static final Set<String> RATIO_KEYS = Set.of("seq", "batch", "threads", "precision", "ratio");

    @TempDir
    static Path tmp;
    private static Path model;
    private static Path onnx;

    @BeforeAll
    static void models() {
        model = TinyModels.model(tmp.resolve("model"), 1);
        onnx = TinyModels.onnx(model, tmp.resolve("model.onnx"));
    }

    @Test
    void timesBothEnginesPerConfigurationAndPrintsTheContractLines() throws Exception {
        List<JsonNode> lines = run(new SideBySide.Options(model, onnx, List.of(8, 16), 2, List.of(1, 2), 2, 1, 7));

        for (int threads : List.of(1, 2)) {
            for (int seq : List.of(8, 16)) {
                JsonNode ours = only(lines, l -> l.path("engine").asText().equals("bertj") && l.has("median_ms")
                        && l.get("seq").asInt() == seq && l.get("threads").asInt() == threads);
                JsonNode theirs = only(lines, l -> l.path("engine").asText().equals("onnxruntime") && l.has("median_ms")
                        && l.get("seq").asInt() == seq && l.get("threads").asInt() == threads);
                assertEquals("fp32", ours.get("precision").asText());
                for (JsonNode timing : List.of(ours, theirs)) {
                    assertEquals(timing == ours ? BERTJ_TIMING_KEYS : TIMING_KEYS, keys(timing));
                    assertEquals(2, timing.get("batch").asInt());
                    assertTrue(timing.get("median_ms").asDouble() > 0, timing.toString());
                    assertTrue(timing.get("p90_ms").asDouble() >= timing.get("median_ms").asDouble(), timing.toString());
                }
                JsonNode ratio = only(lines, l -> l.has("ratio") && l.get("seq").asInt() == seq && l.get("threads").asInt() == threads);
                assertEquals(RATIO_KEYS, keys(ratio));
                double oursMs = ours.get("median_ms").asDouble();
                double theirsMs = theirs.get("median_ms").asDouble();
                double expected = oursMs / theirsMs;
                // The ratio comes from the unrounded medians; the printed medians and ratio are rounded to 3
                // decimals (0.0005 each): with medians of a few microseconds that moves the quotient noticeably.
                double roundingBound = expected * (0.0005 / oursMs + 0.0005 / theirsMs) / (1 - 0.0005 / theirsMs) + 0.0005;
                assertEquals(expected, ratio.get("ratio").asDouble(), roundingBound + 1e-9, ratio.toString());

                JsonNode check = only(lines, l -> l.has("max_abs_diff") && l.get("seq").asInt() == seq && l.get("threads").asInt() == threads);
                assertTrue(check.get("max_abs_diff").asDouble() <= SideBySide.MAX_ABS_DIFF, check.toString());
            }
            JsonNode load = only(lines, l -> l.has("load_ms") && l.get("threads").asInt() == threads);
            assertEquals("bertj", load.get("engine").asText());
            assertTrue(load.get("load_ms").asDouble() > 0);
            assertTrue(load.get("rss_mb_after_load").asDouble() > 0, "VmRSS read from /proc/self/status");
            assertTrue(load.get("weights_mb").asDouble() > 3.8, load.toString()); // 30522 x 32 floats of word embeddings alone
            JsonNode session = only(lines, l -> l.has("session_ms") && l.get("threads").asInt() == threads);
            assertEquals("onnxruntime", session.get("engine").asText());
            assertEquals("last_hidden_state", session.get("output").asText());
            only(lines, l -> l.has("rss_mb_after_forward") && l.get("threads").asInt() == threads);
        }
    }

    @Test
    void aReducedPrecisionIsCheckedByCosineAndTimedAgainstBothPeers() throws Exception {
        // The float32 export stands in for a quantized one: the second peer only needs to be the same model.
        List<JsonNode> lines = run(new SideBySide.Options(model, onnx, List.of(8), 1, List.of(1), 2, 0, 7,
                bertj.kernels.Precision.BF16, onnx));
        JsonNode check = only(lines, l -> l.path("engine").asText().equals("bertj bf16") && l.has("min_token_cosine"));
        assertTrue(check.get("min_token_cosine").asDouble() >= SideBySide.MIN_TOKEN_COSINE_REDUCED, check.toString());
        assertEquals("bf16", only(lines, l -> l.has("median_ms") && l.path("engine").asText().equals("bertj"))
                .get("precision").asText());
        only(lines, l -> l.has("median_ms") && l.path("engine").asText().equals("onnxruntime_reduced"));
        JsonNode ratio = only(lines, l -> l.has("ratio_vs_onnxruntime_reduced"));
        assertTrue(ratio.get("ratio_vs_onnxruntime_reduced").asDouble() > 0, ratio.toString());
    }

    @Test
    void withoutAnOnnxFileOnlyBertjIsTimed() throws Exception {
        List<JsonNode> lines = run(new SideBySide.Options(model, null, List.of(8), 1, List.of(1), 2, 0, 7));
        assertEquals(1, lines.stream().filter(l -> l.has("median_ms")).count());
        assertEquals(BERTJ_TIMING_KEYS, keys(only(lines, l -> l.has("median_ms"))));
        assertTrue(lines.stream().noneMatch(l -> l.has("ratio") || l.path("engine").asText().equals("onnxruntime")));
    }

    @Test
    void anOnnxFileOfAnotherModelFailsTheCheckBeforeAnythingIsTimed() {
        Path other = TinyModels.onnx(TinyModels.model(tmp.resolve("other"), 2), tmp.resolve("other.onnx"));
        StringWriter text = new StringWriter();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SideBySide.run(
                new SideBySide.Options(model, other, List.of(8), 1, List.of(1), 2, 0, 7), new PrintWriter(text)));
        assertTrue(e.getMessage().contains("differs from bertj fp32's") && e.getMessage().contains(other.toString()), e.getMessage());
        assertTrue(!text.toString().contains("median_ms"), text.toString());
    }

    @Test
    void percentilesAreTheMedianAndNearestRank() {
        long[] oneToTen = new long[10];
        for (int i = 0; i < 10; i++) oneToTen[i] = (10 - i) * 1_000_000L; // unsorted, in ms
        assertEquals(5.5, SideBySide.percentile(oneToTen, 50));
        assertEquals(9.0, SideBySide.percentile(oneToTen, 90));
        assertEquals(3.0, SideBySide.percentile(new long[] {3_000_000, 1_000_000, 2_000_000}, 90));
        assertEquals(2.0, SideBySide.percentile(new long[] {3_000_000, 1_000_000, 2_000_000}, 50));
        assertEquals(4.0, SideBySide.percentile(new long[] {4_000_000}, 90));
    }

    @Test
    void optionsOutOfRangeAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SideBySide.Options(model, null, List.of(1), 1, List.of(1), 1, 0, 1));
        assertTrue(e.getMessage().contains("sequence length"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new SideBySide.Options(model, tmp.resolve("missing.onnx"), List.of(8), 1, List.of(1), 1, 0, 1));
        assertTrue(e.getMessage().contains("missing.onnx"), e.getMessage());
    }

    static List<JsonNode> run(SideBySide.Options options) throws Exception {
        StringWriter text = new StringWriter();
        SideBySide.run(options, new PrintWriter(text));
        return parse(text.toString());
    }

    static List<JsonNode> parse(String text) {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            try {
                lines.add(json.readTree(line));
            } catch (IOException e) {
                throw new UncheckedIOException("not a JSON line: " + line, e);
            }
        }
        return lines;
    }

    static JsonNode only(List<JsonNode> lines, Predicate<JsonNode> which) {
        List<JsonNode> matches = lines.stream().filter(which).toList();
        assertEquals(1, matches.size(), "matching lines in " + lines);
        return matches.getFirst();
    }

    static Set<String> keys(JsonNode line) {
        Set<String> keys = new java.util.HashSet<>();
        line.fieldNames().forEachRemaining(keys::add);
        return keys;
    }
}
