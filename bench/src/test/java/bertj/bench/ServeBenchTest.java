package bertj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static bertj.bench.SideBySideTest.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bertj bench serve}: the server in-process under a few clients, every answer checked against the in-process vector. */
class ServeBenchTest {
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path corpus;

    @BeforeAll
    static void models() throws Exception {
        model = TinyModels.model(tmp.resolve("model"), 1);
        StringBuilder lines = new StringBuilder();
        String[] words = "the quick brown fox jumps over lazy dogs while 東京 and Привет are 42 words of a test".split(" ");
        for (int i = 0; i < 30; i++) {
            StringBuilder s = new StringBuilder();
            for (int w = 0; w <= (i * 37) % 85; w++) s.append(words[(i + w) % words.length]).append(' ');
            lines.append("{\"text\": \"").append(s.toString().strip()).append("\"}\n"); // some over the tiny model's 64 tokens
        }
        corpus = Files.writeString(tmp.resolve("corpus.jsonl"), lines);
    }

    @Test
    @Timeout(60)
    void twoClientsPrintThroughputLatencyAndTheRatioWithEveryAnswerChecked() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = BenchMain.run(new String[] {"serve", model.toString(), "--clients", "1,2", "--requests", "20", "--warmup", "4",
                "--threads", "1", "--corpus", corpus.toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        List<JsonNode> lines = SideBySideTest.parse(out.toString());
        JsonNode head = only(lines, l -> l.has("corpus"));
        assertEquals(30, head.get("texts").asInt());
        assertEquals(64, head.get("max_length").asInt());
        assertTrue(only(lines, l -> l.has("server")).get("server").asText().startsWith("http://127.0.0.1:"));
        assertTrue(only(lines, l -> l.path("inprocess").asText().equals("forward_seq16")).get("median_ms").asDouble() > 0);
        for (int clients : List.of(1, 2)) {
            JsonNode line = only(lines, l -> l.path("clients").asInt() == clients);
            for (String key : List.of("requests_per_s", "tokens_per_s", "p50_ms", "p90_ms", "p99_ms", "inprocess_texts_per_s", "ratio")) {
                assertTrue(line.get(key).asDouble() > 0, key + " in " + line);
            }
            assertTrue(line.get("p50_ms").asDouble() <= line.get("p90_ms").asDouble()
                    && line.get("p90_ms").asDouble() <= line.get("p99_ms").asDouble(), line.toString());
            assertEquals(20, line.get("requests").asInt());
            assertEquals(24, line.get("checked").asInt());
            assertEquals(0, line.get("mismatches").asInt());
            assertEquals(0, line.get("failures").asInt());
            assertEquals(clients == 1, line.has("forward_seq16_ms"), line.toString());
            if (clients == 1) {
                assertEquals(line.get("p50_ms").asDouble() - line.get("forward_seq16_ms").asDouble(),
                        line.get("p50_minus_forward_seq16_ms").asDouble(), 0.002, line.toString());
            }
        }
    }

    @Test
    void anAnswerOneBitAwayIsAMismatch() {
        float[] expected = {0.25f, -1.5f, 3e-8f};
        assertNull(ServeBench.difference("[[0.25,-1.5,3.0E-8]]".getBytes(StandardCharsets.UTF_8), expected));
        float off = Math.nextUp(-1.5f);
        String problem = ServeBench.difference(("[[0.25," + off + ",3.0E-8]]").getBytes(StandardCharsets.UTF_8), expected);
        assertTrue(problem != null && problem.startsWith("value 1"), problem);
        assertTrue(ServeBench.difference("[[0.25,-1.5]]".getBytes(StandardCharsets.UTF_8), expected).contains("2 values"));
        assertTrue(ServeBench.difference("{\"error\":\"x\"}".getBytes(StandardCharsets.UTF_8), expected).contains("not [["));
    }

    @Test
    void wrongFlagsAreUsageErrors() {
        StringWriter err = new StringWriter();
        assertEquals(2, BenchMain.run(new String[] {"serve", model.toString(), "--clients", "0", "--corpus", corpus.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err, true)));
        assertTrue(err.toString().contains("--clients"), err.toString());
        assertEquals(2, BenchMain.run(new String[] {"serve", model.toString(), "--requests", "0", "--corpus", corpus.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err, true)));
    }
}
