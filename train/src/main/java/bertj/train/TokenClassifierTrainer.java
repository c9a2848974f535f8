package bertj.train;

import bertj.engine.Bert;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Trains {@code BertForTokenClassification}'s head, {@code classifier(last_hidden_state)} per token with dropout
 * off, on a frozen encoder. As transformers' token classification example does, each word's tag goes to its first
 * sub-token and the others are ignored (label -100): the features are the last hidden state at each word's first
 * sub-token, computed once. Cross-entropy averages over those tokens in a batch of sentences. Tags get ids in
 * sorted order; evaluation reports seqeval's entity-level precision, recall and F1 ({@link Seqeval}).
 */
public final class TokenClassifierTrainer {
    private TokenClassifierTrainer() {
    }

    /** Trains on a JSON Lines file (see {@link TrainingData#readTagged}), evaluating on another after each epoch (null: none). */
    public static TrainedHead train(Path model, Path trainFile, Path evalFile, TrainingOptions options, TrainingListener listener) {
        return TrainingData.trainOnFiles(model, trainFile, evalFile, TrainingData::readTagged,
                (bert, train, trainName, eval, evalName) -> train(bert, train, trainName, eval, evalName, options, listener));
    }

    /** Trains on {@code train}, evaluating on {@code eval} after each epoch (null: none). */
    public static TrainedHead train(Bert bert, List<TaggedSentence> train, List<TaggedSentence> eval, TrainingOptions options,
            TrainingListener listener) {
        return train(bert, train, "the training set", eval, "the eval set", options, listener);
    }

    static TrainedHead train(Bert bert, List<TaggedSentence> train, String trainName, List<TaggedSentence> eval, String evalName,
            TrainingOptions options, TrainingListener listener) {
        if (train.isEmpty()) throw new IllegalArgumentException(trainName + ": no examples");
        List<String> labels = labels(train, trainName);
        if (eval != null) {
            if (eval.isEmpty()) throw new IllegalArgumentException(evalName + ": no examples");
            requireKnownTags(eval, evalName, labels, trainName);
        }
        Features.WordFeatures trainFeatures = Features.firstSubTokens(bert, train, trainName, listener);
        Features.WordFeatures evalFeatures = eval == null ? null : Features.firstSubTokens(bert, eval, evalName, listener);
        Rows trainRows = rows(train, trainFeatures, labels);
        Random random = new Random(options.seed());
        LinearHead head = LinearHead.initialized(bert.model().config().hiddenSize(), labels.size(), random);
        HeadFit.Result fit = HeadFit.fit(head, trainRows, Loss.CROSS_ENTROPY, options,
                eval == null ? null : h -> evaluate(h, eval, evalFeatures, labels), random, listener);
        return new TrainedHead(bert.model().directory().path(), TrainedHead.Task.TOKEN_CLASSIFICATION, labels, null,
                fit.head(), fit.epochs());
    }

    /** The predicted tag of each word: its first sub-token's best label, "O" for a word with no token. */
    static List<List<String>> predict(LinearHead head, Features.WordFeatures features, List<String> labels) {
        List<List<String>> out = new ArrayList<>();
        for (float[][] sentence : features.features()) {
            List<String> tags = new ArrayList<>();
            for (float[] word : sentence) tags.add(word == null ? "O" : labels.get(SequenceClassifierTrainer.argmax(head.logits(word))));
            out.add(tags);
        }
        return out;
    }

    static HeadFit.Evaluation evaluate(LinearHead head, List<TaggedSentence> eval, Features.WordFeatures features, List<String> labels) {
        List<List<String>> expected = new ArrayList<>();
        for (TaggedSentence s : eval) expected.add(s.tags());
        List<List<String>> predicted = predict(head, features, labels);
        Rows rows = rows(eval, features, labels);
        double loss = 0;
        for (int r = 0; r < rows.size(); r++) {
            loss += Loss.CROSS_ENTROPY.addGradient(head.logits(rows.features()[r]), rows.targets()[r], new double[labels.size()]);
        }
        int words = 0, right = 0;
        for (int s = 0; s < expected.size(); s++) {
            for (int w = 0; w < expected.get(s).size(); w++, words++) if (expected.get(s).get(w).equals(predicted.get(s).get(w))) right++;
        }
        Seqeval.Scores scores = Seqeval.score(expected, predicted);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", rows.size() == 0 ? Double.NaN : loss / rows.size());
        metrics.put("eval_precision", scores.precision());
        metrics.put("eval_recall", scores.recall());
        metrics.put("eval_f1", scores.f1());
        metrics.put("eval_accuracy", (double) right / words);
        return new HeadFit.Evaluation(metrics, scores.f1());
    }

    /** A row per word that has a token, its target the one-hot of its tag; an example per sentence. */
    private static Rows rows(List<TaggedSentence> sentences, Features.WordFeatures features, List<String> labels) {
        List<float[]> x = new ArrayList<>();
        List<double[]> y = new ArrayList<>();
        int[] starts = new int[sentences.size() + 1];
        for (int s = 0; s < sentences.size(); s++) {
            float[][] words = features.features()[s];
            for (int w = 0; w < words.length; w++) {
                if (words[w] == null) continue;
                double[] target = new double[labels.size()];
                target[labels.indexOf(sentences.get(s).tags().get(w))] = 1;
                x.add(words[w]);
                y.add(target);
            }
            starts[s + 1] = x.size();
        }
        return new Rows(x.toArray(float[][]::new), y.toArray(double[][]::new), starts);
    }

    private static List<String> labels(List<TaggedSentence> train, String name) {
        TreeSet<String> tags = new TreeSet<>();
        for (int i = 0; i < train.size(); i++) {
            for (String tag : train.get(i).tags()) {
                if (!TrainingData.isBio(tag)) {
                    throw new IllegalArgumentException(name + ": " + train.get(i).where(i) + ": tag \"" + tag
                            + "\" is not a BIO tag (\"O\", \"B-TYPE\" or \"I-TYPE\")");
                }
                tags.add(tag);
            }
        }
        if (tags.size() < 2) {
            throw new IllegalArgumentException(name + ": only one tag (\"" + tags.first() + "\"): a tagger needs examples of "
                    + "at least two tags");
        }
        return new ArrayList<>(tags);
    }

    private static void requireKnownTags(List<TaggedSentence> eval, String evalName, List<String> labels, String trainName) {
        for (int i = 0; i < eval.size(); i++) {
            for (String tag : eval.get(i).tags()) {
                if (!labels.contains(tag)) {
                    throw new IllegalArgumentException(evalName + ": " + eval.get(i).where(i) + ": tag \"" + tag
                            + "\" is not among the tags of " + trainName + " " + labels);
                }
            }
        }
    }
}
