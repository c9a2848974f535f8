package bertj.train;

import bertj.engine.Bert;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Trains {@code BertForSequenceClassification}'s head, {@code classifier(pooler_output)} with dropout off, on a
 * frozen encoder: the pooler outputs are computed once, then the head is fitted on them with AdamW ({@link HeadFit})
 * and the loss of its {@link ProblemType}. Labels get ids in sorted order, as transformers' run_glue does.
 *
 * <pre>{@code
 * TrainedHead head = SequenceClassifierTrainer.train(Path.of("all-MiniLM-L6-v2"), Path.of("train.jsonl"),
 *         Path.of("eval.jsonl"), TrainingOptions.DEFAULTS, TrainingListener.NONE);
 * head.save(Path.of("my-classifier"));
 * }</pre>
 */
public final class SequenceClassifierTrainer {
    private SequenceClassifierTrainer() {
    }

    /** Trains on a JSON Lines file (see {@link TrainingData#readTexts}), evaluating on another after each epoch (null: none). */
    public static TrainedHead train(Path model, Path trainFile, Path evalFile, TrainingOptions options, TrainingListener listener) {
        return TrainingData.trainOnFiles(model, trainFile, evalFile, TrainingData::readTexts,
                (bert, train, trainName, eval, evalName) -> train(bert, train, trainName, eval, evalName, options, listener));
    }

    /** Trains on {@code train}, evaluating on {@code eval} after each epoch (null: none). */
    public static TrainedHead train(Bert bert, List<TextExample> train, List<TextExample> eval, TrainingOptions options,
            TrainingListener listener) {
        return train(bert, train, "the training set", eval, "the eval set", options, listener);
    }

    static TrainedHead train(Bert bert, List<TextExample> train, String trainName, List<TextExample> eval, String evalName,
            TrainingOptions options, TrainingListener listener) {
        if (train.isEmpty()) throw new IllegalArgumentException(trainName + ": no examples");
        ProblemType problemType = train.getFirst().problemType();
        requireOneKind(train, trainName, problemType);
        List<String> labels = labels(train, trainName, problemType);
        if (eval != null) {
            if (eval.isEmpty()) throw new IllegalArgumentException(evalName + ": no examples");
            requireOneKind(eval, evalName, problemType);
            requireKnownLabels(eval, evalName, labels, trainName);
        }

        Rows trainRows = rows(train, Features.pooled(bert, train, trainName, listener), labels);
        Rows evalRows = eval == null ? null : rows(eval, Features.pooled(bert, eval, evalName, listener), labels);
        HeadFit.Result fit = fit(trainRows, evalRows, labels.size(), problemType, options, listener);
        return new TrainedHead(bert.model().directory().path(), TrainedHead.Task.SEQUENCE_CLASSIFICATION, labels, problemType,
                fit.head(), fit.epochs());
    }

    private static HeadFit.Result fit(Rows train, Rows eval, int labels, ProblemType problemType, TrainingOptions options,
            TrainingListener listener) {
        Random random = new Random(options.seed());
        LinearHead head = LinearHead.initialized(train.features()[0].length, labels, random);
        return HeadFit.fit(head, train, problemType.loss(), options, eval == null ? null : h -> evaluate(h, eval, problemType),
                random, listener);
    }

    /**
     * k-fold cross-validation for a small set: example i is in fold {@code i % folds} (interleaved, so a file sorted
     * by label gives every fold its share of each); each fold is evaluated by a head trained on the others. The
     * features are computed once. Returns each fold's eval metrics after its last epoch (its best with early
     * stopping).
     */
    public static List<Map<String, Double>> crossValidate(Bert bert, List<TextExample> examples, int folds, TrainingOptions options,
            TrainingListener listener) {
        if (folds < 2 || folds > examples.size()) {
            throw new IllegalArgumentException("folds must be between 2 and the " + examples.size() + " examples, got " + folds);
        }
        ProblemType problemType = examples.getFirst().problemType();
        requireOneKind(examples, "the examples", problemType);
        List<String> labels = labels(examples, "the examples", problemType);
        Rows all = rows(examples, Features.pooled(bert, examples, "the examples", listener), labels);
        List<Map<String, Double>> out = new ArrayList<>();
        for (int fold = 0; fold < folds; fold++) {
            List<Integer> train = new ArrayList<>(), eval = new ArrayList<>();
            for (int i = 0; i < examples.size(); i++) (i % folds == fold ? eval : train).add(i);
            HeadFit.Result fit = fit(select(all, train), select(all, eval), labels.size(), problemType, options, TrainingListener.NONE);
            out.add(evaluate(fit.head(), select(all, eval), problemType).metrics());
        }
        return out;
    }

    /** The rows of the given examples (one row each), in that order. */
    private static Rows select(Rows rows, List<Integer> examples) {
        float[][] features = new float[examples.size()][];
        double[][] targets = new double[examples.size()][];
        int[] starts = new int[examples.size() + 1];
        for (int i = 0; i < examples.size(); i++) {
            features[i] = rows.features()[examples.get(i)];
            targets[i] = rows.targets()[examples.get(i)];
            starts[i + 1] = i + 1;
        }
        return new Rows(features, targets, starts);
    }

    /** The eval metrics of {@code head} on {@code rows}, with the one early stopping maximizes. */
    static HeadFit.Evaluation evaluate(LinearHead head, Rows rows, ProblemType problemType) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        double loss = 0;
        int correct = 0, truePositives = 0, predictedPositives = 0, positives = 0;
        for (int r = 0; r < rows.size(); r++) {
            double[] logits = head.logits(rows.features()[r]), target = rows.targets()[r];
            loss += problemType.loss().addGradient(logits, target, new double[logits.length]);
            switch (problemType) {
                case SINGLE_LABEL -> {
                    if (target[argmax(logits)] == 1) correct++;
                }
                case MULTI_LABEL -> {
                    boolean all = true;
                    for (int j = 0; j < logits.length; j++) {
                        boolean predicted = logits[j] > 0, expected = target[j] == 1; // sigmoid > 0.5
                        if (predicted && expected) truePositives++;
                        if (predicted) predictedPositives++;
                        if (expected) positives++;
                        all &= predicted == expected;
                    }
                    if (all) correct++;
                }
                case REGRESSION -> {
                }
            }
        }
        metrics.put("eval_loss", loss / problemType.loss().elements(rows.size(), head.out));
        switch (problemType) {
            case SINGLE_LABEL -> metrics.put("eval_accuracy", (double) correct / rows.size());
            case MULTI_LABEL -> {
                double precision = predictedPositives == 0 ? 0 : (double) truePositives / predictedPositives;
                double recall = positives == 0 ? 0 : (double) truePositives / positives;
                metrics.put("eval_f1", precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
                metrics.put("eval_accuracy", (double) correct / rows.size()); // every label right
            }
            case REGRESSION -> {
            }
        }
        double score = switch (problemType) {
            case SINGLE_LABEL -> metrics.get("eval_accuracy");
            case MULTI_LABEL -> metrics.get("eval_f1");
            case REGRESSION -> -metrics.get("eval_loss");
        };
        return new HeadFit.Evaluation(metrics, score);
    }

    static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /** One row per text: its features and its target over {@code labels}. */
    private static Rows rows(List<TextExample> examples, float[][] features, List<String> labels) {
        double[][] targets = new double[examples.size()][];
        int[] starts = new int[examples.size() + 1];
        for (int i = 0; i < examples.size(); i++) {
            TextExample e = examples.get(i);
            targets[i] = new double[labels.size()];
            if (e.problemType() == ProblemType.REGRESSION) {
                targets[i][0] = e.value();
            } else {
                for (String label : e.labels()) targets[i][labels.indexOf(label)] = 1;
            }
            starts[i + 1] = i + 1;
        }
        return new Rows(features, targets, starts);
    }

    private static void requireOneKind(List<TextExample> examples, String name, ProblemType problemType) {
        for (int i = 0; i < examples.size(); i++) {
            if (examples.get(i).problemType() != problemType) {
                throw new IllegalArgumentException(name + ": " + examples.get(i).where(i) + " is " + describe(examples.get(i).problemType())
                        + " but the training set is " + describe(problemType) + ": every example must be of one kind");
            }
        }
    }

    private static String describe(ProblemType problemType) {
        return switch (problemType) {
            case SINGLE_LABEL -> "labeled with one label";
            case MULTI_LABEL -> "labeled with a list of labels (multi-label)";
            case REGRESSION -> "scored with a number (regression)";
        };
    }

    /** The label names in sorted order ("LABEL_0" for regression); refuses a set with nothing to learn. */
    private static List<String> labels(List<TextExample> train, String name, ProblemType problemType) {
        if (problemType == ProblemType.REGRESSION) {
            Set<Double> values = new HashSet<>();
            for (TextExample e : train) values.add(e.value());
            if (values.size() < 2) {
                throw new IllegalArgumentException(name + ": every example has the value " + train.getFirst().value()
                        + ": regression needs at least two different values");
            }
            return List.of("LABEL_0");
        }
        TreeSet<String> labels = new TreeSet<>();
        Set<Set<String>> labelSets = new HashSet<>();
        for (TextExample e : train) {
            labels.addAll(e.labels());
            labelSets.add(new HashSet<>(e.labels()));
        }
        if (problemType == ProblemType.SINGLE_LABEL && labels.size() < 2) {
            throw new IllegalArgumentException(name + ": only one class (\"" + labels.first() + "\"): a classifier needs "
                    + "examples of at least two labels");
        }
        if (problemType == ProblemType.MULTI_LABEL && (labels.isEmpty() || labelSets.size() < 2)) {
            throw new IllegalArgumentException(name + ": every example has the same labels " + train.getFirst().labels()
                    + ": a classifier needs examples that differ");
        }
        return new ArrayList<>(labels);
    }

    private static void requireKnownLabels(List<TextExample> eval, String evalName, List<String> labels, String trainName) {
        if (eval.getFirst().problemType() == ProblemType.REGRESSION) return;
        for (int i = 0; i < eval.size(); i++) {
            for (String label : eval.get(i).labels()) {
                if (!labels.contains(label)) {
                    throw new IllegalArgumentException(evalName + ": " + eval.get(i).where(i) + ": label \"" + label
                            + "\" is not among the labels of " + trainName + " " + labels);
                }
            }
        }
    }
}
