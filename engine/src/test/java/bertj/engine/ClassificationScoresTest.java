package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@link Bert#classify} turns logits into scores ({@link SequenceClassificationHead}), as transformers'
 * TextClassificationPipeline does: the raw logits for problem_type "regression", a sigmoid per label for
 * "multi_label_classification" or a single label (a cross-encoder's relevance score), otherwise the softmax.
 */
class ClassificationScoresTest {
    private static final double EXACT = 1e-12;

    @Test
    void scoresByProblemType() {
        float[] logits = {0.291f, -0.713f, 2.0f};
        assertArrayEquals(new double[] {0.291f, -0.713f, 2.0f}, SequenceClassificationHead.scores(logits, "regression"), EXACT);
        assertArrayEquals(new double[] {sigmoid(0.291f), sigmoid(-0.713f), sigmoid(2.0f)},
                SequenceClassificationHead.scores(logits, "multi_label_classification"), EXACT);
        assertArrayEquals(Probabilities.softmax(logits), SequenceClassificationHead.scores(logits, null), EXACT);
        assertArrayEquals(Probabilities.softmax(logits), SequenceClassificationHead.scores(logits, "single_label_classification"), EXACT);
        // one label: a sigmoid, whatever the problem type short of regression (softmax would always give 1.0)
        assertArrayEquals(new double[] {sigmoid(-0.713f)}, SequenceClassificationHead.scores(new float[] {-0.713f}, null), EXACT);
        assertArrayEquals(new double[] {sigmoid(-0.713f)}, SequenceClassificationHead.scores(new float[] {-0.713f}, "single_label_classification"), EXACT);
        assertArrayEquals(new double[] {-0.713f}, SequenceClassificationHead.scores(new float[] {-0.713f}, "regression"), EXACT);
    }

    @Test
    void theConfigsProblemTypeDecidesTheScores(@TempDir Path dir) throws IOException {
        Path original = new Reference("tiny-bert-seqcls").modelDir;
        Path multi = copyWithProblemType(original, dir.resolve("multi"), "multi_label_classification");
        Path regression = copyWithProblemType(original, dir.resolve("regression"), "regression");
        String text = "a fine film, warmly recommended";
        try (Bert softmax = Bert.load(original); Bert sigmoid = Bert.load(multi); Bert raw = Bert.load(regression)) {
            Results.Classification c = softmax.classify(text);
            List<String> labels = List.copyOf(c.probabilities().keySet());
            double[] p = new double[labels.size()];
            for (int i = 0; i < p.length; i++) p[i] = c.probabilities().get(labels.get(i));
            assertArrayEquals(Probabilities.softmax(c.logits()), p, EXACT);

            Results.Classification m = sigmoid.classify(text);
            assertArrayEquals(c.logits(), m.logits());
            for (int i = 0; i < labels.size(); i++) {
                assertEquals(sigmoid(c.logits()[i]), m.probabilities().get(labels.get(i)), EXACT, labels.get(i));
            }
            Results.Classification r = raw.classify(text);
            int best = 0;
            for (int i = 0; i < labels.size(); i++) {
                assertEquals(c.logits()[i], r.probabilities().get(labels.get(i)), EXACT, labels.get(i));
                if (c.logits()[i] > c.logits()[best]) best = i;
            }
            // the label with the largest logit wins under every function, with its own score
            assertEquals(labels.get(best), c.label());
            assertEquals(labels.get(best), m.label());
            assertEquals(labels.get(best), r.label());
            assertEquals(c.logits()[best], r.score(), EXACT);
        }
    }

    private static double sigmoid(float x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static Path copyWithProblemType(Path from, Path to, String problemType) throws IOException {
        Files.createDirectories(to);
        for (String name : List.of("model.safetensors", "tokenizer_config.json", "vocab.txt")) {
            Files.copy(from.resolve(name), to.resolve(name));
        }
        String config = Files.readString(from.resolve("config.json")).trim();
        Files.writeString(to.resolve("config.json"),
                config.substring(0, config.lastIndexOf('}')) + ", \"problem_type\": \"" + problemType + "\"}\n");
        return to;
    }
}
