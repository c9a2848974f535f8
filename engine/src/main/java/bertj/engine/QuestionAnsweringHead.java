package bertj.engine;

import bertj.engine.Results.Answer;
import bertj.tokenizer.Encoding;

/**
 * {@code BertForQuestionAnswering}'s head, {@code qa_outputs(last_hidden_state)}: a start and an end logit per
 * token; and Hugging Face's question-answering pipeline's span search after it: start and end logits outside the
 * context are masked with -10000, each is soft-maxed, [CLS] is excluded, and the best span
 * start <= end < start + maxAnswerTokens inside the context maximises p(start) x p(end).
 */
final class QuestionAnsweringHead {
    private static final double MASKED = -10000.0;

    private final Dense qaOutputs;

    QuestionAnsweringHead(Dense qaOutputs) {
        this.qaOutputs = qaOutputs;
    }

    /** Logits [batch][seq][2] from the last hidden state: start logit, then end logit. */
    float[][][] logits(BaseModelOutputWithPooling output) {
        return qaOutputs.applyPerToken(output.lastHiddenState());
    }

    /** The best answer of one window, or null when the window holds no context token. logits is [seq][2]. */
    Answer best(String context, Encoding window, float[][] logits, int maxAnswerTokens) {
        int n = window.length();
        boolean[] inContext = new boolean[n];
        double[] start = new double[n], end = new double[n];
        for (int t = 0; t < n; t++) {
            inContext[t] = window.sequenceIds()[t] == 1 && window.attentionMask()[t] != 0;
            boolean allowed = inContext[t] || t == 0;  // the pipeline keeps [CLS] in the softmax
            start[t] = allowed ? logits[t][0] : MASKED;
            end[t] = allowed ? logits[t][1] : MASKED;
        }
        start = Probabilities.softmax(start);
        end = Probabilities.softmax(end);
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
}
