package bertj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same seed gives the same bits: the head, the losses and the written checkpoint; another seed does not. */
class TrainDeterminismTest {
    static final TrainingOptions OPTIONS = TrainingOptions.DEFAULTS.withEpochs(5).withBatchSize(3);

    @TempDir
    Path tmp;

    @Test
    void sameSeedSameBits() throws Exception {
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            List<TextExample> data = TrainData.sentiment();
            TrainedHead a = SequenceClassifierTrainer.train(bert, data, data, OPTIONS, TrainingListener.NONE);
            TrainedHead b = SequenceClassifierTrainer.train(bert, data, data, OPTIONS, TrainingListener.NONE);
            TrainedHead other = SequenceClassifierTrainer.train(bert, data, data, OPTIONS.withSeed(43), TrainingListener.NONE);
            assertTrue(a.classifier().sameAs(b.classifier()));
            assertFalse(a.classifier().sameAs(other.classifier()));
            for (int e = 0; e < OPTIONS.epochs(); e++) {
                assertEquals(Double.doubleToLongBits(a.epochs().get(e).loss()), Double.doubleToLongBits(b.epochs().get(e).loss()));
                assertEquals(a.epochs().get(e).eval(), b.epochs().get(e).eval());
            }
            a.save(tmp.resolve("a"));
            b.save(tmp.resolve("b"));
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a/model.safetensors")), Files.readAllBytes(tmp.resolve("b/model.safetensors")));
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a/config.json")), Files.readAllBytes(tmp.resolve("b/config.json")));
        }
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert"))) {
            List<TaggedSentence> data = TrainData.people();
            TrainedHead a = TokenClassifierTrainer.train(bert, data, data, OPTIONS, TrainingListener.NONE);
            TrainedHead b = TokenClassifierTrainer.train(bert, data, data, OPTIONS, TrainingListener.NONE);
            assertTrue(a.classifier().sameAs(b.classifier()));
        }
    }

    /** Early stopping keeps the best epoch's head and stops once the metric stalls for the patience. */
    @Test
    void earlyStoppingKeepsTheBestEpoch() {
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            List<TextExample> data = TrainData.sentiment();
            TrainingOptions options = OPTIONS.withEpochs(200).withLearningRate(1e-2).withEarlyStoppingPatience(3);
            TrainedHead head = SequenceClassifierTrainer.train(bert, data, data, options, TrainingListener.NONE);
            List<EpochResult> epochs = head.epochs();
            assertTrue(epochs.size() < 200, "stopped early: " + epochs.size() + " epochs");
            double best = epochs.stream().mapToDouble(e -> e.eval().get("eval_accuracy")).max().orElseThrow();
            int bestEpoch = epochs.stream().filter(e -> e.eval().get("eval_accuracy") == best).findFirst().orElseThrow().epoch();
            assertEquals(bestEpoch + 3, epochs.size(), "three epochs without improvement after the best");
            float[][] features = Features.pooled(bert, data, "data", TrainingListener.NONE);
            int right = 0;
            for (int i = 0; i < data.size(); i++) {
                if (head.labels().get(SequenceClassifierTrainer.argmax(head.logits(features[i]))).equals(data.get(i).labels().getFirst())) right++;
            }
            assertEquals(best, (double) right / data.size(), 1e-12, "the head kept is the best epoch's");
        }
    }
}
