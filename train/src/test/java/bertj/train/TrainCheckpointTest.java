package bertj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.Results.Classification;
import bertj.fixtures.Fixtures;
import bertj.loader.BertConfig;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;
import bertj.tokenizer.Encoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The written checkpoint: it loads in bertj and gives the trained head's answers, and its tensor names, shapes and
 * config are those transformers writes for the architecture (the reference task-head fixtures).
 */
class TrainCheckpointTest {
    /** The saved head is the trained one rounded to float32, run by bertj's double-accumulating head kernel. */
    static final double LOGIT_TOLERANCE = 1e-5;
    static final TrainingOptions OPTIONS = TrainingOptions.DEFAULTS.withEpochs(30).withLearningRate(1e-2).withBatchSize(4);

    @TempDir
    Path tmp;

    @Test
    void sequenceClassifierLoadsAndGivesTheTrainedAnswers() throws Exception {
        checkSequenceClassifier(Fixtures.model("tiny-bert-seqcls"));
    }

    /** tiny-bert-tokcls has no pooler: the checkpoint gets an identity pooler and the head reads tanh([CLS]). */
    @Test
    void sequenceClassifierOnAModelWithoutPooler() throws Exception {
        Path out = checkSequenceClassifier(Fixtures.model("tiny-bert-tokcls"));
        try (SafetensorsFile file = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            float[] pooler = file.tensor("bert.pooler.dense.weight").toFloatArray();
            int hidden = 32;
            for (int i = 0; i < hidden; i++) for (int j = 0; j < hidden; j++) assertEquals(i == j ? 1f : 0f, pooler[i * hidden + j]);
        }
    }

    private Path checkSequenceClassifier(Path model) throws Exception {
        Path out = tmp.resolve("classifier");
        List<TextExample> train = TrainData.sentiment();
        float[][] features;
        TrainedHead head;
        try (Bert bert = Bert.load(model)) {
            head = SequenceClassifierTrainer.train(bert, train, train, OPTIONS, TrainingListener.NONE);
            features = Features.pooled(bert, train, "train", TrainingListener.NONE);
            head.save(out);
        }
        try (Bert trained = Bert.load(out)) {
            List<String> texts = train.stream().map(TextExample::text).toList();
            List<Classification> answers = trained.classify(texts, null, false);
            int right = 0;
            for (int i = 0; i < texts.size(); i++) {
                double[] expected = head.logits(features[i]);
                float[] got = answers.get(i).logits();
                for (int j = 0; j < expected.length; j++) {
                    assertEquals(expected[j], got[j], LOGIT_TOLERANCE, texts.get(i) + " logit " + j);
                }
                assertEquals(head.labels().get(SequenceClassifierTrainer.argmax(expected)), answers.get(i).label(), texts.get(i));
                if (answers.get(i).label().equals(train.get(i).labels().getFirst())) right++;
            }
            EpochResult last = head.epochs().getLast();
            assertEquals(last.eval().get("eval_accuracy"), (double) right / texts.size(), 1e-12, "the last epoch's accuracy");
            assertTrue(last.loss() < head.epochs().getFirst().loss(), "the training loss falls: " + head.epochs());
        }
        return out;
    }

    @Test
    void tokenClassifierLoadsAndGivesTheTrainedTags() throws Exception {
        Path out = tmp.resolve("tagger");
        List<TaggedSentence> train = TrainData.people();
        TrainedHead head;
        Features.WordFeatures features;
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert"))) {
            head = TokenClassifierTrainer.train(bert, train, train, OPTIONS, TrainingListener.NONE);
            features = Features.firstSubTokens(bert, train, "train", TrainingListener.NONE);
            head.save(out);
        }
        List<List<String>> predicted = TokenClassifierTrainer.predict(head.classifier(), features, head.labels());
        try (Bert trained = Bert.load(out)) {
            for (int s = 0; s < train.size(); s++) {
                String text = String.join(" ", train.get(s).tokens());
                Encoding encoding = trained.tokenizer().encode(text);
                float[][] logits = trained.tokenLogits(BertInput.of(encoding.ids(), encoding.typeIds()))[0];
                int word = -1;
                for (int t = 0; t < encoding.length(); t++) {
                    if (encoding.specialTokensMask()[t] != 0 || encoding.wordIds()[t] == word) continue;
                    word = encoding.wordIds()[t]; // these words have no punctuation inside: tokenizer words are the given words
                    double[] expected = head.logits(features.features()[s][word]);
                    for (int j = 0; j < expected.length; j++) assertEquals(expected[j], logits[t][j], LOGIT_TOLERANCE, text + " word " + word);
                    assertEquals(predicted.get(s).get(word), head.labels().get(argmax(logits[t])), text + " word " + word);
                }
                assertEquals(train.get(s).tokens().size() - 1, word, "every word was checked");
            }
        }
        assertTrue(head.epochs().getLast().loss() < head.epochs().getFirst().loss() / 2, "the training loss falls: " + head.epochs());
    }

    /** Multi-label and regression checkpoints: classify scores them as the pipeline does, a sigmoid per label and the raw logit. */
    @Test
    void multiLabelAndRegressionCheckpoints() throws Exception {
        List<TextExample> multi = new java.util.ArrayList<>(), scored = new java.util.ArrayList<>();
        for (TextExample e : TrainData.sentiment()) {
            String label = e.labels().getFirst();
            multi.add(TextExample.multiLabeled(e.text(), null, label.equals("neutral") ? List.of() : List.of(label, "opinion")));
            scored.add(TextExample.scored(e.text(), null, label.equals("positive") ? 1 : label.equals("negative") ? -1 : 0));
        }
        for (List<TextExample> train : List.of(multi, scored)) {
            Path out = tmp.resolve(train.getFirst().problemType().configName());
            TrainedHead head;
            float[][] features;
            try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
                head = SequenceClassifierTrainer.train(bert, train, train, OPTIONS, TrainingListener.NONE);
                features = Features.pooled(bert, train, "train", TrainingListener.NONE);
                head.save(out);
            }
            assertEquals(head.problemType().configName(), BertConfig.load(out.resolve("config.json")).problemType());
            try (Bert trained = Bert.load(out)) {
                for (int i = 0; i < train.size(); i++) {
                    Classification c = trained.classify(train.get(i).text());
                    double[] logits = head.logits(features[i]);
                    for (int j = 0; j < logits.length; j++) {
                        double expected = head.problemType() == ProblemType.REGRESSION ? logits[j] : 1 / (1 + Math.exp(-logits[j]));
                        assertEquals(expected, c.probabilities().get(head.labels().get(j)), LOGIT_TOLERANCE, train.get(i).text());
                    }
                }
            }
        }
    }

    /** Names, dtypes and shapes as transformers saves BertForSequenceClassification: the tiny-bert-seqcls fixture's. */
    @Test
    void sequenceClassifierTensorsAreTransformers() throws Exception {
        Path fixture = Fixtures.model("tiny-bert-seqcls");
        Path out = tmp.resolve("seqcls");
        try (Bert bert = Bert.load(fixture)) {
            SequenceClassifierTrainer.train(bert, TrainData.sentiment(), null, OPTIONS.withEpochs(1), TrainingListener.NONE).save(out);
        }
        assertEquals(shapes(fixture.resolve("model.safetensors")), shapes(out.resolve("model.safetensors")));
        BertConfig config = BertConfig.load(out.resolve("config.json"));
        assertEquals(List.of("BertForSequenceClassification"), config.architectures());
        assertEquals(Map.of(0, "negative", 1, "neutral", 2, "positive"), config.id2label());
        assertEquals(Map.of("negative", 0, "neutral", 1, "positive", 2), config.label2id());
        assertEquals("single_label_classification", config.problemType());
        String json = Files.readString(out.resolve("config.json"));
        assertTrue(json.contains("\"num_labels\" : 3"), json);
        assertTrue(Files.isRegularFile(out.resolve("vocab.txt")) && Files.isRegularFile(out.resolve("tokenizer_config.json")));
    }

    /** As transformers saves BertForTokenClassification (no pooler): the tiny-bert-tokcls fixture's. */
    @Test
    void tokenClassifierTensorsAreTransformers() throws Exception {
        Path fixture = Fixtures.model("tiny-bert-tokcls");
        Path out = tmp.resolve("tokcls");
        List<TaggedSentence> train = TrainData.people();
        try (Bert bert = Bert.load(fixture)) {
            TokenClassifierTrainer.train(bert, train, null, OPTIONS.withEpochs(1), TrainingListener.NONE).save(out);
        }
        assertEquals(shapes(fixture.resolve("model.safetensors")), shapes(out.resolve("model.safetensors")));
        BertConfig config = BertConfig.load(out.resolve("config.json"));
        assertEquals(List.of("BertForTokenClassification"), config.architectures());
        assertEquals(List.of("B-LOC", "B-PER", "I-LOC", "I-PER", "O"), List.copyOf(config.id2label().values()));
        assertEquals(null, config.problemType());
    }

    static Map<String, String> shapes(Path file) {
        Map<String, String> out = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                Tensor t = f.tensor(name);
                out.put(name, t.dtype() + java.util.Arrays.toString(t.shape()));
            }
        }
        return out;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    @Test
    void saveRefusesADirectoryWithFiles() throws Exception {
        Files.writeString(tmp.resolve("keep.txt"), "mine");
        try (Bert bert = Bert.load(Fixtures.model("tiny-bert-seqcls"))) {
            TrainedHead head = SequenceClassifierTrainer.train(bert, TrainData.sentiment(), null, OPTIONS.withEpochs(1), TrainingListener.NONE);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> head.save(tmp));
            assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("not empty"), e.getMessage());
        }
        assertArrayEquals(new String[] {"keep.txt"}, Files.list(tmp).map(p -> p.getFileName().toString()).toArray());
    }
}
