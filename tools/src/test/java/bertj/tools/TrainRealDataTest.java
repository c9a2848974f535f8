package bertj.tools;

import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.loader.DefaultModel;
import bertj.tools.MainTest.Run;
import bertj.train.SequenceClassifierTrainer;
import bertj.train.Seqeval;
import bertj.train.TaggedSentence;
import bertj.train.TextExample;
import bertj.train.TrainingData;
import bertj.train.TrainingListener;
import bertj.train.TrainingOptions;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heads trained on the default model (all-MiniLM-L6-v2) with the default options, on real data: Reuters-21578's
 * acq (50) and crude (20) documents from Debian's r-cran-tm (test resources reuters/, see its README), and the
 * people/places NER set (ner/). The trained checkpoints are run by {@code classify} and {@code ner} on the eval
 * file's JSON Lines, and must score what training reported. The figures are printed as {@code [train]} lines; the
 * floors are far below them, to catch a head that stopped learning, not to pin a number.
 */
class TrainRealDataTest {
    static final Path REUTERS = resource("reuters/reuters-acq-crude.jsonl");
    static final Path NER_TRAIN = resource("ner/people-places-train.jsonl"), NER_EVAL = resource("ner/people-places-eval.jsonl");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(TrainRealDataTest.class.getResource("/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fixed split: every fifth document (the 5th, 10th, ...) is eval, 10 acq and 4 crude; the other 56 train. */
    @Test
    void reutersFixedSplitAndCrossValidation() throws Exception {
        List<String> lines = Files.readAllLines(REUTERS);
        StringBuilder train = new StringBuilder(), eval = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) (i % 5 == 4 ? eval : train).append(lines.get(i)).append('\n');
        Path trainFile = Files.writeString(tmp.resolve("train.jsonl"), train), evalFile = Files.writeString(tmp.resolve("eval.jsonl"), eval);
        Path out = tmp.resolve("reuters-classifier");
        long start = System.nanoTime();
        Run r = run("", "train", "classify", "default", "--train", trainFile.toString(), "--eval", evalFile.toString(),
                "--out", out.toString(), "--quiet");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> epochs = TrainCommandTest.lines(r.out());
        JsonNode last = epochs.getLast();
        double accuracy = last.get("eval_accuracy").asDouble();
        double epochSeconds = epochs.stream().mapToDouble(e -> e.get("seconds").asDouble()).average().orElseThrow();
        System.out.printf(Locale.ROOT, "[train] reuters fixed split: eval accuracy %.4f (%d of 14), %d epochs of %.2f ms each, %.1f s in all "
                + "(model load, encoding 70 documents, training, writing)%n", accuracy, Math.round(accuracy * 14), epochs.size(),
                epochSeconds * 1e3, seconds);
        assertTrue(accuracy >= 0.8, "accuracy " + accuracy);

        // classify on the eval file, from stdin: the accuracy training reported
        Run answers = run(Files.readString(evalFile), "classify", out.toString(), "--truncate");
        assertEquals(0, answers.exitCode(), answers.err());
        List<JsonNode> got = TrainCommandTest.lines(answers.out());
        List<TextExample> expected = TrainingData.readTexts(evalFile);
        int right = 0;
        for (int i = 0; i < expected.size(); i++) if (got.get(i).get("label").asText().equals(expected.get(i).labels().getFirst())) right++;
        assertEquals(accuracy, (double) right / expected.size(), 1e-12);

        try (Bert bert = Bert.load(DefaultModel.ensureConverted())) {
            List<Map<String, Double>> folds = SequenceClassifierTrainer.crossValidate(bert, TrainingData.readTexts(REUTERS), 5,
                    TrainingOptions.DEFAULTS, TrainingListener.NONE);
            List<Double> accuracies = folds.stream().map(f -> f.get("eval_accuracy")).toList();
            double mean = accuracies.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            System.out.printf(Locale.ROOT, "[train] reuters 5-fold cross-validation: accuracy %.4f, folds %s%n", mean, accuracies);
            assertTrue(mean >= 0.8, "cross-validated accuracy " + mean);
        }
    }

    @Test
    void nerPeopleAndPlaces() throws Exception {
        Path out = tmp.resolve("tagger");
        long start = System.nanoTime();
        Run r = run("", "train", "ner", "default", "--train", NER_TRAIN.toString(), "--eval", NER_EVAL.toString(), "--out",
                out.toString(), "--quiet");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> epochs = TrainCommandTest.lines(r.out());
        JsonNode last = epochs.getLast();
        double f1 = last.get("eval_f1").asDouble();
        double epochSeconds = epochs.stream().mapToDouble(e -> e.get("seconds").asDouble()).average().orElseThrow();
        System.out.printf(Locale.ROOT, "[train] people/places NER: eval precision %.4f recall %.4f F1 %.4f, %d epochs of %.1f ms each, "
                + "%.1f s in all%n", last.get("eval_precision").asDouble(), last.get("eval_recall").asDouble(), f1, epochs.size(),
                epochSeconds * 1e3, seconds);
        assertTrue(f1 >= 0.5, "F1 " + f1);

        // ner on the eval sentences from stdin: its entities, back on the words, score what training reported
        List<TaggedSentence> eval = TrainingData.readTagged(NER_EVAL);
        StringBuilder stdin = new StringBuilder();
        for (TaggedSentence s : eval) stdin.append(TrainCommandTest.JSON.writeValueAsString(Map.of("text", String.join(" ", s.tokens())))).append('\n');
        Run answers = run(stdin.toString(), "ner", out.toString());
        assertEquals(0, answers.exitCode(), answers.err());
        List<JsonNode> got = TrainCommandTest.lines(answers.out());
        List<List<String>> expected = new ArrayList<>(), predicted = new ArrayList<>();
        for (int s = 0; s < eval.size(); s++) {
            expected.add(eval.get(s).tags());
            predicted.add(tags(eval.get(s).tokens(), got.get(s).get("entities")));
        }
        assertEquals(f1, Seqeval.score(expected, predicted).f1(), 1e-12);
    }

    /** BIO tags of the words from entities given as code point offsets in the words joined by spaces. */
    static List<String> tags(List<String> words, JsonNode entities) {
        List<String> tags = new ArrayList<>();
        int[] starts = new int[words.size()];
        for (int w = 0, at = 0; w < words.size(); at += words.get(w).codePointCount(0, words.get(w).length()) + 1, w++) {
            starts[w] = at;
            tags.add("O");
        }
        for (JsonNode e : entities) {
            int start = e.get("start").asInt(), end = e.get("end").asInt();
            boolean first = true;
            for (int w = 0; w < words.size(); w++) {
                if (starts[w] >= start && starts[w] < end) {
                    tags.set(w, (first ? "B-" : "I-") + e.get("label").asText());
                    first = false;
                }
            }
        }
        return tags;
    }
}
