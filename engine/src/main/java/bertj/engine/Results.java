package bertj.engine;

import java.util.Map;

/** The task heads' answers. */
public final class Results {
    private Results() {
    }

    /** A sequence classification: the best label, its probability, and every label's probability. */
    public record Classification(String label, double score, Map<String, Double> probabilities, float[] logits) {
    }

    /** A named entity: its label without the B-/I- prefix, its exact text, UTF-16 [start, end) in the input, and score. */
    public record Entity(String label, String text, int start, int end, double score) {
    }

    /** An extractive answer: the exact substring of the context, UTF-16 [start, end) in the context, and score. */
    public record Answer(String text, int start, int end, double score) {
    }

    /** A text found by similarity search, with its index in the searched list and its cosine similarity. */
    public record Hit(int index, String text, double score) {
    }
}
