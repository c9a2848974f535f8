package bertj.engine;

import bertj.engine.Results.Classification;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code BertForSequenceClassification}'s head, {@code classifier(pooler_output)}, and Hugging Face's
 * text-classification pipeline after it: the logits turned into scores (the raw logits for {@code problem_type}
 * "regression", a sigmoid per label for "multi_label_classification" or a single label, else the softmax) and
 * the best label.
 */
final class SequenceClassificationHead {
    private final Dense classifier;
    private final String[] labels;
    private final String problemType;

    SequenceClassificationHead(Dense classifier, String[] labels, String problemType) {
        this.classifier = classifier;
        this.labels = labels;
        this.problemType = problemType;
    }

    /** Logits [batch][labels] from the pooler output. */
    float[][] logits(BaseModelOutputWithPooling output) {
        return logits(output.poolerOutput());
    }

    /** Logits [batch][labels] from pooler outputs [batch][hidden]. */
    float[][] logits(float[][] pooled) {
        return classifier.apply(pooled);
    }

    /** One sequence's classification from its logits. */
    Classification classify(float[] logits) {
        double[] probs = scores(logits, problemType);
        Map<String, Double> byLabel = new LinkedHashMap<>();
        int best = 0;
        for (int i = 0; i < logits.length; i++) {
            byLabel.put(labels[i], probs[i]);
            if (probs[i] > probs[best]) best = i;
        }
        return new Classification(labels[best], probs[best], byLabel, logits);
    }

    /** The classifier's logits as the pipeline's scores for {@code problemType}. */
    static double[] scores(float[] logits, String problemType) {
        if ("regression".equals(problemType)) {
            double[] raw = new double[logits.length];
            for (int i = 0; i < logits.length; i++) raw[i] = logits[i];
            return raw;
        }
        if ("multi_label_classification".equals(problemType) || logits.length == 1) {
            double[] p = new double[logits.length];
            for (int i = 0; i < logits.length; i++) p[i] = 1 / (1 + Math.exp(-logits[i]));
            return p;
        }
        return Probabilities.softmax(logits);
    }
}
