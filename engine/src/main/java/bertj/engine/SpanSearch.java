package bertj.engine;

import bertj.engine.Results.Answer;
import bertj.tokenizer.Encoding;

/**
 * Hugging Face's question-answering pipeline decoding: start and end logits outside the context
 * are masked with -10000, each is soft-maxed, [CLS] is excluded, and the best span
 * start <= end < start + maxAnswerTokens inside the context maximises p(start) x p(end).
 */
final class SpanSearch {
    private static final double MASKED = -10000.0;

    private SpanSearch() {
    }

    /** The best answer of one window, or null when the window holds no context token. logits is [seq][2]. */
    static Answer best(String context, Encoding window, float[][] logits, int maxAnswerTokens) {
        int n = window.length();
        boolean[] inContext = new boolean[n];
        double[] start = new double[n], end = new double[n];
        for (int t = 0; t < n; t++) {
            inContext[t] = window.sequenceIds()[t] == 1 && window.attentionMask()[t] != 0;
            boolean allowed = inContext[t] || t == 0;  // the pipeline keeps [CLS] in the softmax
            start[t] = allowed ? logits[t][0] : MASKED;
            end[t] = allowed ? logits[t][1] : MASKED;
        }
        softmaxInPlace(start);
        softmaxInPlace(end);
        start[0] = end[0] = 0;
        double bestScore = -1;
        int bestStart = -1, bestEnd = -1;
        for (int s = 0; s < n; s++) {
            if (!inContext[s]) continue;
            for (int e = s; e < Math.min(n, s + maxAnswerTokens); e++) {
                if (!inContext[e]) continue;
                double score = start[s] * end[e];
                if (score > bestScore) {
                    bestScore = score;
                    bestStart = s;
                    bestEnd = e;
                }
            }
        }
        if (bestStart < 0) return null;
        int from = window.starts()[bestStart], to = window.ends()[bestEnd];
        return new Answer(context.substring(from, to), from, to, bestScore);
    }

    private static void softmaxInPlace(double[] v) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double x : v) max = Math.max(max, x);
        for (int i = 0; i < v.length; i++) sum += v[i] = Math.exp(v[i] - max);
        for (int i = 0; i < v.length; i++) v[i] /= sum;
    }
}
