package bertj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.Precision;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench precision}: one line per precision with the least and mean cosine against fp32 and the largest
 * difference of last_hidden_state; ONNX Runtime's line when given two exports. A float32 export given as the
 * "reduced" one is fp32 against itself: cosine 1 to rounding, differences of float noise only.
 */
class PrecisionAccuracyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path onnx;
    private static Path corpus;

    @BeforeAll
    static void models() throws Exception {
        model = TinyModels.model(tmp.resolve("model"), 1);
        onnx = TinyModels.onnx(model, tmp.resolve("model.onnx"));
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 40; i++) lines.append("{\"text\": \"text number ").append(i).append(" is ").append("long ".repeat(i)).append("\"}\n");
        corpus = Files.writeString(tmp.resolve("corpus.jsonl"), lines);
    }

    @Test
    void printsTheDistanceOfEachPrecisionAndOfOnnxRuntimesQuantizedModel() throws Exception {
        StringWriter text = new StringWriter();
        PrecisionAccuracy.run(new PrecisionAccuracy.Options(model, corpus, List.of(Precision.BF16, Precision.INT8), onnx,
                onnx, 2), new PrintWriter(text));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.toString().split("\n")) lines.add(JSON.readTree(line));
        assertEquals(40, lines.getFirst().get("texts").asInt());
        for (String precision : List.of("bf16", "int8")) {
            JsonNode line = lines.stream().filter(l -> precision.equals(l.path("precision").asText())).findFirst().orElseThrow();
            assertEquals(40, line.get("texts").asInt());
            double min = line.get("min_cosine").asDouble(), mean = line.get("mean_cosine").asDouble();
            assertTrue(min > 0.99 && min < 1 && mean >= min && mean <= 1, line.toString());
            assertTrue(line.get("max_abs_diff_last_hidden_state").asDouble() > 1e-4, line.toString());
        }
        JsonNode ort = lines.stream().filter(l -> "onnxruntime".equals(l.path("engine").asText()) && l.has("min_cosine"))
                .findFirst().orElseThrow();
        assertTrue(ort.get("min_cosine").asDouble() > 0.999999, ort.toString());
        assertTrue(ort.get("max_abs_diff_last_hidden_state").asDouble() < 1e-5, ort.toString());
    }

    @Test
    void bothOnnxFilesOrNeither() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PrecisionAccuracy.Options(
                model, corpus, List.of(Precision.BF16), onnx, null, 1));
        assertTrue(e.getMessage().contains("--onnxruntime-reduced"), e.getMessage());
    }
}
