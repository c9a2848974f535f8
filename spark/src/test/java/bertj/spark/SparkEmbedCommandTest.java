package bertj.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.fixtures.Fixtures;
import bertj.tools.Main;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bertj spark-embed} through the CLI's own entry point, in local mode on two cores. */
class SparkEmbedCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new ByteArrayInputStream(new byte[0]), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    /** 500 lines {"id": i, "text": ...}; every 50th text is null, every 50th (shifted by 25) empty. */
    static List<String> writeInput(Path file) throws IOException {
        List<String> texts = SparkTransformersTest.texts(500);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            ObjectNode line = JSON.createObjectNode().put("id", i);
            if (i % 50 == 0) line.putNull("text");
            else line.put("text", i % 50 == 25 ? "" : texts.get(i));
            lines.add(JSON.writeValueAsString(line));
        }
        Files.write(file, lines);
        return texts;
    }

    @Test
    void embedsJsonLinesIntoJsonInInputOrderWithErrorsForNullAndEmptyTexts(@TempDir Path dir) throws IOException {
        Path model = Fixtures.model("tiny-bert");
        List<String> texts = writeInput(dir.resolve("in.jsonl"));
        Path out = dir.resolve("out");
        Run run = run("spark-embed", model.toString(), dir.resolve("in.jsonl").toString(), out.toString(),
                "--master", "local[2]", "--format", "json", "--pooling", "mean", "--normalize");
        assertEquals(1, run.code(), run.err()); // some rows have no embedding
        assertTrue(run.err().contains("bertj: 500 rows, 480 embedded, written to " + out), run.err());
        assertTrue(run.err().contains("bertj: 20 of 500 rows have no embedding: their 'error' column says why"), run.err());

        List<JsonNode> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(out)) {
            List<Path> parts = files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
            assertTrue(parts.size() >= 2, "the input was split: " + parts);
            for (Path part : parts) for (String line : Files.readAllLines(part)) rows.add(JSON.readTree(line));
        }
        assertEquals(500, rows.size());
        try (Bert bert = Bert.load(model)) {
            for (int i = 0; i < rows.size(); i++) {
                JsonNode row = rows.get(i);
                assertEquals(i, row.get("id").asInt(), "rows in input order");
                if (i % 50 == 0 || i % 50 == 25) {
                    assertFalse(row.has("embedding"));
                    assertEquals(i % 50 == 0 ? "the text is null" : "the text is empty", row.get("error").asText());
                    continue;
                }
                assertFalse(row.has("error"));
                float[] expected = bert.embed(List.of(texts.get(i)), Pooling.MEAN, true)[0];
                float[] got = new float[row.get("embedding").size()];
                for (int d = 0; d < got.length; d++) got[d] = row.get("embedding").get(d).floatValue();
                assertArrayEquals(expected, got, "row " + i);
            }
        }
    }

    @Test
    void writesParquetByDefaultAndExitsZeroWhenEveryRowIsEmbedded(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("in.json"), List.of("{\"sentence\": \"A man is playing a guitar.\"}", "{\"sentence\": \"Someone is making music.\"}"));
        Path out = dir.resolve("out");
        Run run = run("spark-embed", Fixtures.model("tiny-bert").toString(), dir.resolve("in.json").toString(), out.toString(),
                "--master", "local[2]", "--text-col", "sentence", "--precision", "bf16");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains("bertj: 2 rows, 2 embedded, written to " + out), run.err());
        try (Stream<Path> files = Files.list(out)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".parquet")));
        }
        // a directory of Parquet files is read as Parquet: its embedding column is in the way of the new one
        Run again = run("spark-embed", Fixtures.model("tiny-bert").toString(), out.toString(), dir.resolve("again").toString(),
                "--master", "local[2]", "--text-col", "sentence");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("bertj: BertEmbedder: output column 'embedding' is already in the input (the columns are [sentence, embedding, error])"),
                again.err());
        // JSON output without a single error: the error column is nowhere in the files
        Path json = dir.resolve("json");
        Run jsonRun = run("spark-embed", Fixtures.model("tiny-bert").toString(), dir.resolve("in.json").toString(), json.toString(),
                "--master", "local[2]", "--text-col", "sentence", "--format", "json");
        assertEquals(0, jsonRun.code(), jsonRun.err());
        assertTrue(jsonRun.err().contains("bertj: 2 rows, 2 embedded, written to " + json), jsonRun.err());
    }

    @Test
    void wrongArgumentsAreClearErrorsBeforeSparkStarts(@TempDir Path dir) throws IOException {
        String model = Fixtures.model("tiny-bert").toString();
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"text\": \"hello\"}"));

        Run missing = run("spark-embed", model, dir.resolve("absent.jsonl").toString(), dir.resolve("out").toString());
        assertEquals(1, missing.code());
        assertEquals("bertj: " + dir.resolve("absent.jsonl") + ": no such file or directory\n", missing.err());

        Run exists = run("spark-embed", model, in.toString(), dir.toString());
        assertEquals(1, exists.code());
        assertEquals("bertj: " + dir + ": already exists (OUT must be a new directory)\n", exists.err());

        Run noModel = run("spark-embed", dir.resolve("no-model").toString(), in.toString(), dir.resolve("out").toString());
        assertEquals(1, noModel.code());
        assertTrue(noModel.err().startsWith("bertj: " + dir.resolve("no-model") + ": no such model directory"), noModel.err());

        Run format = run("spark-embed", model, in.toString(), dir.resolve("out").toString(), "--format", "csv");
        assertEquals(2, format.code());
        assertTrue(format.err().startsWith("bertj: --format: expected parquet or json, got 'csv'"), format.err());

        Run pooling = run("spark-embed", model, in.toString(), dir.resolve("out").toString(), "--pooling", "avg");
        assertEquals(2, pooling.code());
        assertTrue(pooling.err().startsWith("bertj: --pooling: expected cls, mean or max, got 'avg'"), pooling.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @Test
    void aMissingTextColumnNamesTheColumns(@TempDir Path dir) throws IOException {
        Path in = dir.resolve("in.jsonl");
        Files.write(in, List.of("{\"body\": \"hello\"}"));
        Run run = run("spark-embed", Fixtures.model("tiny-bert").toString(), in.toString(), dir.resolve("out").toString(), "--master", "local[1]");
        assertEquals(1, run.code());
        assertTrue(run.err().contains("bertj: BertEmbedder: no input column 'text' (the columns are [body]); see setInputCol"), run.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
