package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bertj train} on the tiny models: its output, the checkpoint classify loads, and its errors. */
class TrainCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static final String[][] TEXTS = {{"What a wonderful film, I loved it.", "positive"}, {"A terrible, boring film.", "negative"},
            {"A great and happy day.", "positive"}, {"The worst day of my life.", "negative"},
            {"Brilliant acting and a beautiful story.", "positive"}, {"Awful acting and a stupid story.", "negative"},
            {"I am so glad we came here.", "positive"}, {"I regret ever coming here.", "negative"}};

    private Path trainFile() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (String[] t : TEXTS) lines.append(JSON.writeValueAsString(java.util.Map.of("text", t[0], "label", t[1]))).append('\n');
        return Files.writeString(tmp.resolve("train.jsonl"), lines);
    }

    static List<JsonNode> lines(String out) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.split("\n")) lines.add(JSON.readTree(line));
        return lines;
    }

    @Test
    void classifyWritesACheckpointThatClassifyAnswersWith() throws Exception {
        Path train = trainFile(), out = tmp.resolve("out");
        Run r = run("", "train", "classify", model("tiny-bert-seqcls").toString(), "--train", train.toString(), "--eval",
                train.toString(), "--out", out.toString(), "--epochs", "5", "--batch", "3", "--quiet");
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> epochs = lines(r.out());
        assertEquals(5, epochs.size(), r.out());
        for (int e = 0; e < 5; e++) {
            JsonNode epoch = epochs.get(e);
            assertEquals(e + 1, epoch.get("epoch").asInt());
            for (String field : List.of("loss", "eval_loss", "eval_accuracy", "seconds")) assertTrue(epoch.get(field).isNumber(), epoch + " " + field);
        }
        assertTrue(r.err().startsWith("bertj: wrote " + out + ": BertForSequenceClassification, labels [negative, positive], 5 epochs in "), r.err());

        // classify reads the training file's lines from stdin ("label" is ignored) and answers as the last epoch scored
        Run answers = run(Files.readString(train), "classify", out.toString());
        assertEquals(0, answers.exitCode(), answers.err());
        List<JsonNode> got = lines(answers.out());
        int right = 0;
        for (int i = 0; i < TEXTS.length; i++) {
            assertEquals(TEXTS[i][0], got.get(i).get("text").asText());
            if (got.get(i).get("label").asText().equals(TEXTS[i][1])) right++;
        }
        assertEquals(epochs.getLast().get("eval_accuracy").asDouble(), (double) right / TEXTS.length, 1e-12);
    }

    @Test
    void outMustBeNewAndIsNeverHalfWritten() throws Exception {
        Path train = trainFile(), out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("mine.txt"), "keep");
        Run r = run("", "train", "classify", model("tiny-bert-seqcls").toString(), "--train", train.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode());
        assertEquals("bertj: " + out + ": exists and is not empty; give a new directory\n", r.err());
        assertEquals("", r.out());

        Path eval = Files.writeString(tmp.resolve("eval.jsonl"), "{\"text\": \"fine\", \"label\": \"neutral\"}\n");
        Path fresh = tmp.resolve("fresh");
        r = run("", "train", "classify", model("tiny-bert-seqcls").toString(), "--train", train.toString(), "--eval", eval.toString(),
                "--out", fresh.toString());
        assertEquals(1, r.exitCode());
        assertEquals("bertj: " + eval + ": line 1: label \"neutral\" is not among the labels of " + train + " [negative, positive]\n", r.err());
        assertFalse(Files.exists(fresh));
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("eval.jsonl", "out", "train.jsonl"), left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void nerWritesATokenClassifier() throws Exception {
        Path train = Files.writeString(tmp.resolve("tags.jsonl"), """
                {"tokens": ["John", "flew", "to", "Paris"], "tags": ["B-PER", "O", "O", "B-LOC"]}
                {"tokens": ["Mary", "Smith", "lives", "in", "Rome"], "tags": ["B-PER", "I-PER", "O", "O", "B-LOC"]}
                """);
        Path out = tmp.resolve("tagger");
        Run r = run("", "train", "ner", model("tiny-bert").toString(), "--train", train.toString(), "--eval", train.toString(),
                "--out", out.toString(), "--epochs", "2", "--quiet");
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> epochs = lines(r.out());
        assertEquals(2, epochs.size());
        for (String field : List.of("eval_precision", "eval_recall", "eval_f1", "eval_accuracy")) assertTrue(epochs.getLast().get(field).isNumber());
        Run entities = run("", "ner", out.toString(), "John flew to Paris");
        assertEquals(0, entities.exitCode(), entities.err());
        assertTrue(entities.out().startsWith("{\"entities\":["), entities.out());
    }

    @Test
    void wrongArgumentsAreUsageErrors() throws Exception {
        Path train = trainFile();
        String m = model("tiny-bert-seqcls").toString(), out = tmp.resolve("o").toString();
        Run r = run("", "train");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("bertj: give what to train: classify or ner\n"), r.err());
        r = run("", "train", "classify", m, "--out", out);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("bertj: Missing required option: '--train=FILE'"), r.err());
        r = run("", "train", "classify", m, "--train", train.toString(), "--out", out, "--epochs", "0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("bertj: epochs must be at least 1, got 0\n"), r.err());
        r = run("", "train", "classify", m, "--train", train.toString(), "--out", out, "--early-stopping", "2");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("bertj: --early-stopping needs --eval\n"), r.err());
        assertFalse(Files.exists(Path.of(out)));
    }
}
