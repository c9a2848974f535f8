package bertj.bench;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.kernels.ThreadPool;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static bertj.bench.SideBySideTest.only;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusBenchTest {
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path onnx;
    /** 70 texts of 3 to about 90 tokens: three batches of 32, the longest cut at the tiny model's 64. */
    private static List<String> texts;
    private static Path corpus;

    @BeforeAll
    static void models() throws Exception {
        model = TinyModels.model(tmp.resolve("model"), 1);
        onnx = TinyModels.onnx(model, tmp.resolve("model.onnx"));
        texts = new ArrayList<>();
        String[] words = "the quick brown fox jumps over lazy dogs while 東京 and Привет are 42 words of a test".split(" ");
        for (int i = 0; i < 70; i++) {
            StringBuilder s = new StringBuilder();
            for (int w = 0; w <= (i * 37) % 85; w++) s.append(words[(i + w) % words.length]).append(' ');
            texts.add(s.toString().strip());
        }
        StringBuilder lines = new StringBuilder();
        for (String t : texts) lines.append("{\"text\": \"").append(t).append("\"}\n");
        corpus = Files.writeString(tmp.resolve("corpus.jsonl"), lines);
    }

    @Test
    void paddedBatchesAreLongestFirstAtMost32AndCoverEveryTextOnce() {
        try (ThreadPool pool = new ThreadPool(1); Bert bert = Bert.load(model, pool)) {
            List<Encoding> encodings = bert.tokenizer().encodeBatch(texts, null,
                    EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()));
            PaddedBatches batches = PaddedBatches.of(encodings, bert.tokenizer().padTokenId());
            assertEquals(3, batches.batches().size());
            List<Integer> seen = new ArrayList<>();
            int previousShortest = Integer.MAX_VALUE;
            long padded = 0;
            for (PaddedBatches.Batch batch : batches.batches()) {
                assertTrue(batch.indices().length <= PaddedBatches.BATCH);
                int longest = 0, shortest = Integer.MAX_VALUE;
                for (int i : batch.indices()) {
                    seen.add(i);
                    longest = Math.max(longest, encodings.get(i).length());
                    shortest = Math.min(shortest, encodings.get(i).length());
                }
                assertEquals(longest, batch.input().seqLen(), "padded to its longest");
                assertTrue(longest <= previousShortest, "longest first");
                previousShortest = shortest;
                padded += batch.input().tokens();
            }
            assertEquals(64, batches.batches().getFirst().input().seqLen(), "cut at the tiny model's maximum");
            assertEquals(padded, batches.paddedTokens());
            seen.sort(null);
            for (int i = 0; i < texts.size(); i++) assertEquals(i, seen.get(i));
        }
    }

    @Test
    void onnxRuntimesBatchesGiveBertsEmbeddingsInInputOrder() throws Exception {
        try (ThreadPool pool = new ThreadPool(1); Bert bert = Bert.load(model, pool);
             SideBySide.OrtRunner ort = SideBySide.OrtRunner.open(onnx, 1, new PrintWriter(new StringWriter()))) {
            List<Encoding> encodings = bert.tokenizer().encodeBatch(texts, null,
                    EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()));
            PaddedBatches batches = PaddedBatches.of(encodings, bert.tokenizer().padTokenId());
            for (Pooling mode : Pooling.values()) {
                for (boolean normalize : new boolean[] {true, false}) {
                    float[][] expected = bert.embed(texts, mode, normalize);
                    float[][] actual = batches.embed(ort::run, mode, normalize);
                    for (int i = 0; i < texts.size(); i++) {
                        for (int j = 0; j < expected[i].length; j++) {
                            assertEquals(expected[i][j], actual[i][j], 1e-5, mode + " normalize " + normalize + ", text " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void bertjsPassIsEmbedOnWindowsOfTheCorpus() {
        try (ThreadPool pool = new ThreadPool(1); Bert bert = Bert.load(model, pool)) {
            float[][] whole = bert.embed(texts, Pooling.MEAN, true);
            float[][] windows = CorpusBench.embed(bert, texts, 16, Pooling.MEAN, true);
            assertEquals(whole.length, windows.length);
            for (int i = 0; i < whole.length; i++) {
                for (int j = 0; j < whole[i].length; j++) assertEquals(whole[i][j], windows[i][j], 1e-5, "text " + i);
            }
        }
    }

    @Test
    void printsTheCorpusTheCheckAndBothEnginesPerThreadCount() throws Exception {
        StringWriter text = new StringWriter();
        CorpusBench.run(new CorpusBench.Options(model, corpus, onnx, List.of(1, 2), 2, 0, 32, null), new PrintWriter(text));
        List<JsonNode> lines = SideBySideTest.parse(text.toString());
        JsonNode stats = only(lines, l -> l.has("corpus"));
        assertEquals(70, stats.get("texts").asInt());
        assertEquals(64, stats.get("max_length").asInt());
        assertTrue(stats.get("over_max_length").asInt() > 0, stats.toString());
        assertTrue(stats.get("padded_tokens_in_batches_of_32").asLong() >= stats.get("tokens").asLong(), stats.toString());
        for (int threads : List.of(1, 2)) {
            JsonNode check = only(lines, l -> l.has("min_cosine") && l.get("threads").asInt() == threads);
            assertTrue(check.get("min_cosine").asDouble() >= CorpusBench.MIN_COSINE, check.toString());
            for (String engine : List.of("bertj", "onnxruntime")) {
                JsonNode timing = only(lines, l -> l.path("engine").asText().equals(engine) && l.has("median_s")
                        && l.get("threads").asInt() == threads);
                assertEquals(2, timing.get("runs").asInt());
                assertTrue(timing.get("min_s").asDouble() <= timing.get("median_s").asDouble()
                        && timing.get("median_s").asDouble() <= timing.get("max_s").asDouble(), timing.toString());
                assertTrue(timing.get("tokens_per_s").asLong() > 0, timing.toString());
                assertEquals(engine.equals("onnxruntime"), timing.has("padded_tokens_per_s"), timing.toString());
            }
            assertTrue(only(lines, l -> l.has("ratio") && l.get("threads").asInt() == threads).get("ratio").asDouble() > 0);
        }
    }

    @Test
    void anOnnxFileOfAnotherModelIsRefusedBeforeTiming() {
        Path other = TinyModels.onnx(TinyModels.model(tmp.resolve("other"), 2), tmp.resolve("other.onnx"));
        StringWriter text = new StringWriter();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CorpusBench.run(
                new CorpusBench.Options(model, corpus, other, List.of(1), 1, 0, 32, null), new PrintWriter(text)));
        assertTrue(e.getMessage().contains("disagree") && e.getMessage().contains("Not timing"), e.getMessage());
        assertTrue(!text.toString().contains("median_s"), text.toString());
    }

    @Test
    void inAReducedPrecisionTheCheckIsByCosineAndTheLinesSayThePrecision() throws Exception {
        StringWriter text = new StringWriter();
        CorpusBench.run(new CorpusBench.Options(model, corpus, onnx, List.of(1), 1, 0, 32, null,
                bertj.kernels.Precision.INT8), new PrintWriter(text));
        List<JsonNode> lines = SideBySideTest.parse(text.toString());
        assertEquals("int8", only(lines, l -> l.has("load_ms")).get("precision").asText());
        JsonNode check = only(lines, l -> l.has("min_cosine"));
        assertEquals(CorpusBench.MIN_COSINE_REDUCED, check.get("min_cosine_limit").asDouble());
        assertTrue(check.get("min_cosine").asDouble() >= CorpusBench.MIN_COSINE_REDUCED, check.toString());
        only(lines, l -> l.has("ratio"));
    }

    @Test
    void theCheckGivesTheWorstCosineAndDifference() {
        float[][] ours = {{1, 0}, {0.6f, 0.8f}};
        StringWriter text = new StringWriter();
        CorpusBench.check(ours, new float[][] {{1, 0}, {0.6f, 0.8f + 1e-4f}}, 1, new PrintWriter(text));
        JsonNode line = SideBySideTest.parse(text.toString()).getFirst();
        assertEquals(1e-4, line.get("max_abs_diff").asDouble(), 1e-6);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CorpusBench.check(ours, new float[][] {{1, 0}, {0.8f, 0.6f}}, 1, new PrintWriter(new StringWriter())));
        assertTrue(e.getMessage().contains("text 2"), e.getMessage());
    }

    @Test
    void corpusLinesThatEmbedWouldRefuseAreErrorsNamingTheLine() throws Exception {
        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"text\": \"fine\"}\n\n{\"text\": 3}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorpusBench.readTexts(bad));
        assertTrue(e.getMessage().contains("bad.jsonl: line 3") && e.getMessage().contains("\"text\""), e.getMessage());
        Path pair = Files.writeString(tmp.resolve("pair.jsonl"), "{\"text\": \"a\", \"text_pair\": \"b\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> CorpusBench.readTexts(pair));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("text_pair"), e.getMessage());
        Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "\n");
        e = assertThrows(IllegalArgumentException.class, () -> CorpusBench.readTexts(empty));
        assertTrue(e.getMessage().contains("no texts"), e.getMessage());
        assertEquals(List.of("a", "b\u00e9"), CorpusBench.readTexts(Files.writeString(tmp.resolve("ok.jsonl"),
                "\uFEFF{\"text\": \"a\"}\n{\"text\": \"b\\u00e9\"}")));
    }

    @Test
    void optionsOutOfRangeAreRefusedByName() {
        for (Object[] c : new Object[][] {{List.of(0), 1, 0, 1, "--threads"}, {List.of(1), 0, 0, 1, "--runs"},
                {List.of(1), 1, -1, 1, "--warmup"}, {List.of(1), 1, 0, 0, "--window"}}) {
            @SuppressWarnings("unchecked") List<Integer> threads = (List<Integer>) c[0];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CorpusBench.Options(model, corpus,
                    null, threads, (int) c[1], (int) c[2], (int) c[3], null));
            assertTrue(e.getMessage().startsWith((String) c[4]), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CorpusBench.Options(model,
                tmp.resolve("none.jsonl"), null, List.of(1), 1, 0, 1, null));
        assertTrue(e.getMessage().contains("none.jsonl"), e.getMessage());
    }

    @Test
    void medianAndNearestRank() {
        int[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5.5, CorpusBench.median(sorted));
        assertEquals(9, sorted[CorpusBench.nearestRank(sorted.length, 90)]);
        assertEquals(2.0, CorpusBench.median(new int[] {1, 2, 3}));
        assertArrayEquals(new int[] {1}, Arrays.copyOf(sorted, CorpusBench.nearestRank(10, 10) + 1));
    }
}
