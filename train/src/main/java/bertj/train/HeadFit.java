package bertj.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * The training loop of a head on cached features: each epoch shuffles the examples, takes them in batches,
 * averages the loss over the batch as PyTorch does, and steps AdamW on the weight (with weight decay) and on the
 * bias (without). Everything runs in double in a fixed order, so a seed gives the same bits every time.
 */
final class HeadFit {
    /** An evaluation of the head: the metrics to report, and the score that early stopping maximizes. */
    record Evaluation(Map<String, Double> metrics, double score) {
    }

    private HeadFit() {
    }

    /** The trained head and the epochs run. */
    record Result(LinearHead head, List<EpochResult> epochs) {
    }

    /**
     * Trains {@code head} in place on {@code train}; {@code evaluate} (null for none) runs after each epoch.
     * With early stopping the head returned is the best epoch's.
     */
    static Result fit(LinearHead head, Rows train, Loss loss, TrainingOptions options, Function<LinearHead, Evaluation> evaluate,
            Random random, TrainingListener listener) {
        if (options.earlyStoppingPatience() > 0 && evaluate == null) {
            throw new IllegalArgumentException("early stopping needs an eval set to watch");
        }
        AdamW weightOptimizer = new AdamW(head.weight.length, options.learningRate(), options.weightDecay());
        AdamW biasOptimizer = new AdamW(head.bias.length, options.learningRate(), 0);
        double[] weightGrad = new double[head.weight.length], biasGrad = new double[head.bias.length];
        double[] rowGrad = new double[head.out];
        int[] order = new int[train.examples()];
        for (int i = 0; i < order.length; i++) order[i] = i;

        List<EpochResult> epochs = new ArrayList<>();
        LinearHead best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        int sinceBest = 0;
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            long start = System.nanoTime();
            shuffle(order, random);
            double lossSum = 0;
            int steps = 0;
            for (int from = 0; from < order.length; from += options.batchSize()) {
                int to = Math.min(order.length, from + options.batchSize());
                Arrays.fill(weightGrad, 0);
                Arrays.fill(biasGrad, 0);
                double batchLoss = 0;
                int rows = 0;
                for (int i = from; i < to; i++) {
                    int e = order[i];
                    for (int r = train.starts()[e]; r < train.starts()[e + 1]; r++, rows++) {
                        float[] x = train.features()[r];
                        Arrays.fill(rowGrad, 0);
                        batchLoss += loss.addGradient(head.logits(x), train.targets()[r], rowGrad);
                        for (int j = 0; j < head.out; j++) {
                            biasGrad[j] += rowGrad[j];
                            for (int k = 0, w = j * head.in; k < head.in; k++) weightGrad[w + k] += rowGrad[j] * x[k];
                        }
                    }
                }
                listener.trained(epoch, to, order.length);
                if (rows == 0) continue; // sentences with no word left after truncation: nothing to learn from
                double scale = 1.0 / loss.elements(rows, head.out);
                for (int i = 0; i < weightGrad.length; i++) weightGrad[i] *= scale;
                for (int j = 0; j < biasGrad.length; j++) biasGrad[j] *= scale;
                weightOptimizer.step(head.weight, weightGrad);
                biasOptimizer.step(head.bias, biasGrad);
                lossSum += batchLoss * scale;
                steps++;
            }
            Map<String, Double> metrics = new LinkedHashMap<>();
            Evaluation evaluation = evaluate == null ? null : evaluate.apply(head);
            if (evaluation != null) metrics.putAll(evaluation.metrics());
            EpochResult result = new EpochResult(epoch, steps == 0 ? Double.NaN : lossSum / steps, metrics,
                    (System.nanoTime() - start) / 1e9);
            epochs.add(result);
            listener.epochEnded(result);
            if (options.earlyStoppingPatience() > 0 && evaluation != null) {
                if (best == null || evaluation.score() > bestScore) {
                    best = head.copy();
                    bestScore = evaluation.score();
                    sinceBest = 0;
                } else if (++sinceBest >= options.earlyStoppingPatience()) {
                    break;
                }
            }
        }
        return new Result(best != null ? best : head, epochs);
    }

    /** Fisher-Yates, with {@link Random#nextInt(int)}'s specified sequence: the same order for the same seed. */
    static void shuffle(int[] order, Random random) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
