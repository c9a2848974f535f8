package bertj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad training input gets a clear message naming the file and the line; long texts are cut with a warning. */
class TrainInputTest {
    static final TrainingOptions ONE_EPOCH = TrainingOptions.DEFAULTS.withEpochs(1);

    @TempDir
    Path tmp;

    private Path file(String name, String... lines) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, String.join("\n", lines) + (lines.length > 0 ? "\n" : ""));
        return f;
    }

    private String failure(Path train, Path eval) {
        Path model = Fixtures.model("tiny-bert-seqcls");
        return assertThrows(IllegalArgumentException.class,
                () -> SequenceClassifierTrainer.train(model, train, eval, ONE_EPOCH, TrainingListener.NONE)).getMessage();
    }

    @Test
    void unknownEvalLabelIsNamed() throws Exception {
        Path train = file("train.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}", "{\"text\": \"bad\", \"label\": \"neg\"}");
        Path eval = file("eval.jsonl", "{\"text\": \"fine\", \"label\": \"pos\"}", "", "{\"text\": \"meh\", \"label\": \"neutral\"}");
        assertEquals(eval + ": line 3: label \"neutral\" is not among the labels of " + train + " [neg, pos]", failure(train, eval));
    }

    @Test
    void unknownEvalTagIsNamed() throws Exception {
        Path train = file("train.jsonl", "{\"tokens\": [\"Anna\", \"sings\"], \"tags\": [\"B-PER\", \"O\"]}");
        Path eval = file("eval.jsonl", "{\"tokens\": [\"Rome\"], \"tags\": [\"B-LOC\"]}");
        String message = assertThrows(IllegalArgumentException.class, () -> TokenClassifierTrainer.train(Fixtures.model("tiny-bert"),
                train, eval, ONE_EPOCH, TrainingListener.NONE)).getMessage();
        assertEquals(eval + ": line 1: tag \"B-LOC\" is not among the tags of " + train + " [B-PER, O]", message);
    }

    @Test
    void emptyFileIsRefused() throws Exception {
        Path empty = file("train.jsonl");
        assertEquals(empty + ": no examples (the file is empty)", failure(empty, null));
        Path blank = file("blank.jsonl", "", "  ");
        assertEquals(blank + ": no examples (the file is empty)", failure(blank, null));
        Path train = file("ok.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}", "{\"text\": \"bad\", \"label\": \"neg\"}");
        assertEquals(empty + ": no examples (the file is empty)", failure(train, empty));
    }

    @Test
    void singleClassIsRefused() throws Exception {
        Path train = file("train.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}", "{\"text\": \"great\", \"label\": \"pos\"}");
        assertEquals(train + ": only one class (\"pos\"): a classifier needs examples of at least two labels", failure(train, null));
        Path scores = file("scores.jsonl", "{\"text\": \"good\", \"label\": 0.5}", "{\"text\": \"great\", \"label\": 0.5}");
        assertEquals(scores + ": every example has the value 0.5: regression needs at least two different values", failure(scores, null));
        Path tags = file("tags.jsonl", "{\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\", \"O\"]}");
        String message = assertThrows(IllegalArgumentException.class, () -> TokenClassifierTrainer.train(Fixtures.model("tiny-bert"),
                tags, null, ONE_EPOCH, TrainingListener.NONE)).getMessage();
        assertEquals(tags + ": only one tag (\"O\"): a tagger needs examples of at least two tags", message);
    }

    @Test
    void malformedLinesAreNamed() throws Exception {
        String ok = "{\"text\": \"good\", \"label\": \"pos\"}";
        assertEquals(tmp.resolve("a.jsonl") + ": line 2: not valid JSON: Unrecognized token 'x': was expecting "
                + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                failure(file("a.jsonl", ok, "x"), null));
        assertEquals(tmp.resolve("b.jsonl") + ": line 2: \"label\" is a number but line 1's is a string: every line's label must be of one kind",
                failure(file("b.jsonl", ok, "{\"text\": \"x\", \"label\": 1}"), null));
        assertEquals(tmp.resolve("c.jsonl") + ": line 1: \"text\" must be a string", failure(file("c.jsonl", "{\"label\": \"a\"}"), null));
        assertEquals(tmp.resolve("d.jsonl") + ": line 1: no \"label\"", failure(file("d.jsonl", "{\"text\": \"a\"}"), null));
        assertTrue(failure(file("e.jsonl", ok + " {}"), null).startsWith(tmp.resolve("e.jsonl") + ": line 1: not valid JSON: "));
        Path tags = file("t.jsonl", "{\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\"]}");
        assertEquals(tags + ": line 1: 2 tokens but 1 tags: every token needs its tag",
                assertThrows(IllegalArgumentException.class, () -> TrainingData.readTagged(tags)).getMessage());
        Path bio = file("u.jsonl", "{\"tokens\": [\"a\"], \"tags\": [\"PER\"]}");
        assertEquals(bio + ": line 1: tag \"PER\" is not a BIO tag (\"O\", \"B-TYPE\" or \"I-TYPE\")",
                assertThrows(IllegalArgumentException.class, () -> TrainingData.readTagged(bio)).getMessage());
        Path missing = tmp.resolve("missing.jsonl");
        assertEquals(missing + ": file not found", assertThrows(IllegalArgumentException.class, () -> TrainingData.readTexts(missing)).getMessage());
    }

    /** tiny-bert-seqcls takes 64 tokens: longer texts are cut to 64, trained on, and named in one warning. */
    @Test
    void longTextsAreCutWithAWarning() throws Exception {
        String longText = "word ".repeat(100);
        Path train = file("train.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}", "{\"text\": \"" + longText + "\", \"label\": \"neg\"}",
                "{\"text\": \"bad\", \"label\": \"neg\"}", "{\"text\": \"" + longText + "\", \"text_pair\": \"" + longText + "\", \"label\": \"pos\"}");
        List<String> warnings = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void warning(String message) {
                warnings.add(message);
            }
        };
        TrainedHead head = SequenceClassifierTrainer.train(Fixtures.model("tiny-bert-seqcls"), train, null, ONE_EPOCH, listener);
        assertEquals(List.of(train + ": 2 of 4 texts are longer than the model's 64 tokens and were cut to 64 (line 2, line 4)"), warnings);
        assertFalse(Double.isNaN(head.epochs().getFirst().loss()));

        warnings.clear();
        Path sentences = file("tags.jsonl", "{\"tokens\": " + "[\"Anna\"".concat(", \"x\"".repeat(80)) + "], \"tags\": [\"B-PER\""
                + ", \"O\"".repeat(80) + "]}", "{\"tokens\": [\"Rome\"], \"tags\": [\"B-LOC\"]}");
        TokenClassifierTrainer.train(Fixtures.model("tiny-bert"), sentences, sentences, ONE_EPOCH, listener);
        assertEquals(List.of(sentences + ": 1 of 2 sentences are longer than the model's 64 tokens and were cut to 64 (line 1)",
                sentences + ": 1 of 2 sentences are longer than the model's 64 tokens and were cut to 64 (line 1)"), warnings);
    }

    @Test
    void optionsAreChecked() {
        assertEquals("epochs must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> TrainingOptions.DEFAULTS.withEpochs(0)).getMessage());
        assertEquals("the learning rate must be a positive number, got NaN",
                assertThrows(IllegalArgumentException.class, () -> TrainingOptions.DEFAULTS.withLearningRate(Double.NaN)).getMessage());
        assertEquals("the batch size must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> TrainingOptions.DEFAULTS.withBatchSize(0)).getMessage());
    }

    @Test
    void earlyStoppingNeedsAnEvalSet() {
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            assertEquals("early stopping needs an eval set to watch", assertThrows(IllegalArgumentException.class,
                    () -> SequenceClassifierTrainer.train(bert, TrainData.sentiment(), null, ONE_EPOCH.withEarlyStoppingPatience(2),
                            TrainingListener.NONE)).getMessage());
        }
    }

    @Test
    void mixedKindsInCodeAreRefused() {
        List<TextExample> train = List.of(TextExample.labeled("a", null, "x"), TextExample.scored("b", null, 1));
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            assertEquals("the training set: example 2 is scored with a number (regression) but the training set is labeled with "
                    + "one label: every example must be of one kind", assertThrows(IllegalArgumentException.class,
                    () -> SequenceClassifierTrainer.train(bert, train, null, ONE_EPOCH, TrainingListener.NONE)).getMessage());
        }
    }
}
