package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.SafetensorsFile;
import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** classify, ner and qa on the tiny reference heads. */
class HeadCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final double REFERENCE_TOLERANCE = 1e-5;

    static JsonNode json(Run r) throws Exception {
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().endsWith("}\n") && r.out().indexOf('\n') == r.out().length() - 1, "one JSON line: " + r.out());
        return JSON.readTree(r.out());
    }

    /** Python's text[start:end]: start and end count code points. */
    static String codePointSubstring(String text, int start, int end) {
        int[] cps = text.codePoints().toArray();
        return new String(cps, start, end - start);
    }

    /** classify on reference inputs (single texts and pairs) gives softmax of the reference's logits. */
    @Test
    void classifyGivesTheReferenceProbabilities() throws Exception {
        Path dir = model("tiny-bert-seqcls");
        List<String> labels = new ArrayList<>();
        JsonNode id2label = JSON.readTree(dir.resolve("config.json").toFile()).get("id2label");
        for (int i = 0; i < id2label.size(); i++) labels.add(id2label.get(String.valueOf(i)).asText());
        List<JsonNode> batches = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("reference_inputs.jsonl"))) batches.add(JSON.readTree(line));

        int pairs = 0;
        try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            for (JsonNode batch : batches) {
                float[] logits = ref.tensor(batch.get("batch").asText() + ".logits").toFloatArray();
                for (int s = 0; s < batch.get("texts").size(); s++) {
                    JsonNode item = batch.get("texts").get(s);
                    List<String> args = new ArrayList<>(List.of("classify", dir.toString(), item.get("text").asText()));
                    if (item.has("text_pair")) {
                        args.addAll(List.of("--pair", item.get("text_pair").asText()));
                        pairs++;
                    }
                    JsonNode got = json(run("", args.toArray(String[]::new)));

                    double[] expected = softmax(logits, s * labels.size(), labels.size());
                    int best = 0;
                    for (int i = 0; i < labels.size(); i++) {
                        assertEquals(expected[i], got.get("probabilities").get(labels.get(i)).asDouble(), REFERENCE_TOLERANCE, item + " " + labels.get(i));
                        if (expected[i] > expected[best]) best = i;
                    }
                    assertEquals(labels, iterableFieldNames(got.get("probabilities")), "every label, in id order");
                    assertEquals(labels.get(best), got.get("label").asText(), item.toString());
                    assertEquals(expected[best], got.get("score").asDouble(), REFERENCE_TOLERANCE);
                }
            }
        }
        assertEquals(2, pairs, "the reference has two pairs");
    }

    private static List<String> iterableFieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static double[] softmax(float[] logits, int from, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[from + i]);
        double[] p = new double[n];
        for (int i = 0; i < n; i++) sum += p[i] = Math.exp(logits[from + i] - max);
        for (int i = 0; i < n; i++) p[i] /= sum;
        return p;
    }

    @Test
    void nerEntitiesAreExactSubstringsAtCodePointOffsets() throws Exception {
        String dir = model("tiny-bert-tokcls").toString();
        String text = "🎉🎈 John Smith flew from New York City to Zoë's café in Paris.";
        JsonNode got = json(run("", "ner", dir, text));
        JsonNode entities = got.get("entities");
        assertTrue(entities.size() >= 2, got.toString());

        // the tokens' own code point offsets, as tokenize writes them
        Run tokens = run(EncodeCommandTest.line(text, null) + "\n", "tokenize", dir);
        Set<Integer> starts = new HashSet<>(), ends = new HashSet<>();
        for (JsonNode offset : JSON.readTree(tokens.out()).get("offsets")) {
            starts.add(offset.get(0).asInt());
            ends.add(offset.get(1).asInt());
        }
        int afterEmoji = 0;
        Set<String> labels = Set.of("PER", "LOC");
        for (JsonNode e : entities) {
            int start = e.get("start").asInt(), end = e.get("end").asInt();
            assertEquals(codePointSubstring(text, start, end), e.get("text").asText(), e.toString());
            assertTrue(starts.contains(start) && ends.contains(end), "entity bounds are token bounds: " + e);
            assertTrue(labels.contains(e.get("label").asText()), "B-/I- prefixes are dropped: " + e);
            double score = e.get("score").asDouble();
            assertTrue(score > 0 && score <= 1, e.toString());
            if (start > 2) afterEmoji++;
        }
        assertTrue(afterEmoji > 0, "an entity after the two emoji, where code points and UTF-16 differ: " + got);
    }

    @Test
    void qaAnswerIsTheContextSubstringAtCodePointOffsets() throws Exception {
        String dir = model("tiny-bert-qa").toString();
        String context = "🎉 John lives in Paris, France. 🎈 He works at the Louvre museum since 2019.";
        JsonNode got = json(run("", "qa", dir, "--question", "Where does John live?", "--context", context));
        int start = got.get("start").asInt(), end = got.get("end").asInt();
        assertTrue(start > 0 && start < end, got.toString());
        assertEquals(codePointSubstring(context, start, end), got.get("answer").asText(), got.toString());
        assertFalse(got.get("answer").asText().isBlank());
        double score = got.get("score").asDouble();
        assertTrue(score > 0 && score <= 1, got.toString());
    }

    /** The tiny QA model has 64 positions; a context of ~600 tokens is read in overlapping windows. */
    @Test
    void qaOverALongContextUsesOverlappingWindows() throws Exception {
        String dir = model("tiny-bert-qa").toString();
        StringBuilder context = new StringBuilder("🎉 ");
        String[] cities = {"Paris", "Berlin", "Madrid", "Rome", "Vienna", "Lisbon", "Prague", "Dublin"};
        for (int i = 0; i < 60; i++) {
            context.append("Person ").append(i).append(" lives in ").append(cities[i % cities.length]).append(" and likes tea. ");
        }
        String c = context.toString().strip();
        Run tokenized = run(EncodeCommandTest.line(c, null) + "\n", "tokenize", dir);
        assertTrue(JSON.readTree(tokenized.out()).get("ids").size() > 500, "far more tokens than the model's 64 positions");

        JsonNode got = json(run("", "qa", dir, "--question", "Where does person 42 live?", "--context", c));
        int start = got.get("start").asInt(), end = got.get("end").asInt();
        assertTrue(0 <= start && start < end && end <= c.codePointCount(0, c.length()), got.toString());
        assertEquals(codePointSubstring(c, start, end), got.get("answer").asText(), got.toString());
    }

    @Test
    void aQuestionThatLeavesNoRoomForTheContextIsNamed() {
        Run r = run("", "qa", model("tiny-bert-qa").toString(), "--question", "why ".repeat(80), "--context", "John lives here");
        assertEquals(1, r.exitCode());
        assertEquals("bertj: the question is 80 tokens, too long for the model's 64-token window with the context:"
                + " shorten it to at most 60 tokens\n", r.err());
    }

    @Test
    void aLongQuestionThatStillFitsGetsAnAnswer() throws Exception {
        // 29-60 tokens leave fewer context tokens per window than the usual overlap (32 at a 64-token window)
        String c = "John lives in Berlin and works in Paris. ".repeat(10);
        for (int words : new int[] {27, 28, 44, 59}) { // with the "?", 28 to 60 tokens
            Run r = run("", "qa", model("tiny-bert-qa").toString(), "--question", "why ".repeat(words) + "?", "--context", c);
            assertEquals(0, r.exitCode(), words + " words: " + r.err());
            JsonNode got = json(r);
            int start = got.get("start").asInt(), end = got.get("end").asInt();
            assertEquals(codePointSubstring(c, start, end), got.get("answer").asText(), got.toString());
        }
        Run r = run("", "qa", model("tiny-bert-qa").toString(), "--question", "why ".repeat(60) + "?", "--context", c);
        assertEquals("bertj: the question is 61 tokens, too long for the model's 64-token window with the context:"
                + " shorten it to at most 60 tokens\n", r.err());
    }

    @Test
    void aModelWithoutTheHeadIsAOneLineError() {
        String[][] cases = {
                {"classify", model("tiny-bert").toString(), "text"},
                {"classify", model("tiny-bert-tokcls").toString(), "text"},
                {"ner", model("tiny-bert-seqcls").toString(), "text"},
                {"qa", model("tiny-bert").toString(), "--question", "q", "--context", "c"},
                {"ner", model("tiny-bert-qa").toString(), "text"}};
        String[] task = {"sequence classification", "sequence classification", "token classification", "question answering",
                "token classification"};
        for (int i = 0; i < cases.length; i++) {
            Run r = run("", cases[i]);
            assertEquals(1, r.exitCode(), String.join(" ", cases[i]));
            assertEquals("", r.out());
            assertEquals(1, r.err().lines().count(), "one line, no stack trace: " + r.err());
            assertTrue(r.err().startsWith("bertj: " + cases[i][1] + " has no " + task[i] + " head (needs "), r.err());
        }
    }

    @Test
    void wrongFlagsAreUsageErrors() {
        String seqcls = model("tiny-bert-seqcls").toString(), qa = model("tiny-bert-qa").toString();
        for (String[] args : new String[][] {{"classify", seqcls, "a", "--pair"}, {"classify", seqcls, "a", "b"},
                {"ner", seqcls, "a", "--bogus"}, {"qa", qa, "--question", "q"}, {"qa", qa, "--context", "c"},
                {"qa", qa, "positional", "--question", "q", "--context", "c"}, {"encode"}, {"encode", seqcls, "--max-length", "x"}}) {
            Run r = run("", args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertEquals("", r.out());
            assertTrue(r.err().contains("Usage: bertj"), r.err());
        }
    }
}
