package bertj.bench;

import bertj.engine.Bert;
import bertj.engine.Results;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code bertj bench MODEL ...} command line. */
class BenchMainTest {
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path onnx;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void models() {
        model = TinyModels.model(tmp.resolve("model"), 1);
        onnx = TinyModels.onnx(model, tmp.resolve("model.onnx"));
    }

    private int run(String... args) {
        return BenchMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void printsOneJsonObjectPerLine() {
        int code = run(model.toString(), "--seq", "8,12", "--batch", "1", "--threads", "1", "--runs", "2", "--warmup", "0",
                "--vs-onnxruntime", onnx.toString());
        assertEquals(0, code, err.toString());
        List<JsonNode> lines = SideBySideTest.parse(out.toString());
        assertEquals(2, lines.stream().filter(l -> l.has("ratio")).count(), out.toString());
        assertEquals(4, lines.stream().filter(l -> l.has("median_ms")).count(), out.toString());
    }

    @Test
    void wrongFlagsAreUsageErrors() {
        assertEquals(2, run(model.toString(), "--seq", "eight"));
        assertEquals(2, run(model.toString(), "--seq", "1"));
        assertTrue(err.toString().contains("sequence length must be at least 2"), err.toString());
        assertEquals(2, run(model.toString(), "--threads", "0"));
        assertEquals(2, run(model.toString(), "--runs", "0"));
        // sizes that would each allocate an array before anything runs are refused at the flags
        assertEquals(2, run(model.toString(), "--runs", "2000000000"));
        assertTrue(err.toString().contains("runs must be from 1 to 1000000, got 2000000000"), err.toString());
        assertEquals(2, run(model.toString(), "--batch", "100000", "--seq", "100000"));
        assertTrue(err.toString().contains("batch 100000 x sequence length 100000 is over 16777216 tokens per call"), err.toString());
        assertEquals(2, run(model.toString(), "--frobnicate"));
        assertEquals(2, run());
        assertTrue(err.toString().contains("Usage:") || err.toString().contains("bertj bench"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void wrongFlagsOfTheNewCommandsAreUsageErrorsNamingTheFlag() {
        String corpus = tmp.resolve("corpus.jsonl").toString();
        Object[][] cases = {
                {new String[] {"corpus", model.toString(), corpus, "--threads", "0"}, "--threads"},
                {new String[] {"corpus", model.toString(), corpus, "--runs", "0"}, "--runs"},
                {new String[] {"corpus", model.toString(), corpus, "--warmup", "-1"}, "--warmup"},
                {new String[] {"corpus", model.toString(), corpus, "--window", "0"}, "--window"},
                {new String[] {"corpus", model.toString(), corpus, "--pooling", "median"}, "--pooling"},
                {new String[] {"corpus", model.toString()}, "FILE.jsonl"},
                {new String[] {"oneshot", "--runs", "0"}, "--runs"},
                {new String[] {"oneshot", "--ort-threads", "0"}, "--ort-threads"},
                {new String[] {"oneshot", "--ort-ids", "hello"}, "--ort-ids"},
                {new String[] {"oneshot", "--frobnicate"}, "--frobnicate"},
                {new String[] {"rss", "--stdin", corpus}, "COMMAND"},
                {new String[] {"rss", "--repeat", "0", "--", "embed", "default"}, "--repeat"},
                {new String[] {"classifier-model", tmp.resolve("c").toString(), "--labels", "0"}, "--labels"},
                {new String[] {"classifier-model", tmp.resolve("c").toString(), "--config", "huge"}, "huge"},
        };
        for (Object[] c : cases) {
            err.getBuffer().setLength(0);
            String[] args = (String[]) c[0];
            assertEquals(2, run(args), String.join(" ", args) + ": " + err);
            assertTrue(err.toString().startsWith("bertj: ") && err.toString().contains((String) c[1]), String.join(" ", args) + ": " + err);
            assertTrue(err.toString().contains("Try 'bertj bench " + args[0] + " --help'"), err.toString());
        }
        assertEquals("", out.toString());
    }

    @Test
    void aMissingCorpusOrLauncherIsAnErrorNamingIt() {
        Path missing = tmp.resolve("no-corpus.jsonl");
        assertEquals(1, run("corpus", model.toString(), missing.toString(), "--runs", "1"));
        assertTrue(err.toString().contains(missing.toString()), err.toString());
        Path noLauncher = tmp.resolve("no-bertj");
        assertEquals(1, run("oneshot", "--launcher", noLauncher.toString()));
        assertTrue(err.toString().contains(noLauncher.toString()), err.toString());
    }

    @Test
    void aClassifierModelClassifies() throws Exception {
        Path dir = tmp.resolve("classifier");
        ClassifierModel.write(dir, TinyModels.CONFIG, 3, 1);
        ClassifierModel.write(dir, TinyModels.CONFIG, 3, 1); // over an earlier one
        try (Bert bert = Bert.load(dir)) {
            Results.Classification result = bert.classify("hello world", "a pair");
            assertEquals(Set.of("LABEL_0", "LABEL_1", "LABEL_2"), result.probabilities().keySet());
            assertEquals(1, result.probabilities().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-6);
        }
    }

    @Test
    void aMissingModelOrOnnxFileIsAnErrorNamingIt() {
        Path missing = tmp.resolve("no-model");
        assertEquals(1, run(missing.toString(), "--runs", "1"));
        assertTrue(err.toString().startsWith("bertj: ") && err.toString().contains(missing.toString()), err.toString());
        Path noOnnx = tmp.resolve("no.onnx");
        assertEquals(1, run(model.toString(), "--runs", "1", "--vs-onnxruntime", noOnnx.toString()));
        assertTrue(err.toString().contains(noOnnx.toString()), err.toString());
    }
}
