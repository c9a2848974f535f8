package bertj.train;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Entity-level precision, recall and F1 as seqeval computes them by default ({@code seqeval.metrics.f1_score},
 * conlleval's chunk rules): an entity counts when its type, first and last word all match. The rules of
 * {@code get_entities}, {@code end_of_chunk} and {@code start_of_chunk} for BIO tags: an I- after O or after
 * another type starts an entity, as a B- does; sentences are joined with an O between them.
 */
public final class Seqeval {
    /** precision, recall and f1 in [0, 1] (0 where seqeval divides by zero), and the entity counts. */
    public record Scores(double precision, double recall, double f1, int trueEntities, int predictedEntities, int correct) {
    }

    private Seqeval() {
    }

    /** The scores of {@code predicted} against {@code expected}: tags per word, per sentence. */
    public static Scores score(List<List<String>> expected, List<List<String>> predicted) {
        if (expected.size() != predicted.size()) {
            throw new IllegalArgumentException(expected.size() + " expected sentences, " + predicted.size() + " predicted");
        }
        Set<Entity> truth = entities(expected, "expected"), guess = entities(predicted, "predicted");
        int correct = 0;
        for (Entity e : guess) if (truth.contains(e)) correct++;
        double precision = guess.isEmpty() ? 0 : (double) correct / guess.size();
        double recall = truth.isEmpty() ? 0 : (double) correct / truth.size();
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new Scores(precision, recall, f1, truth.size(), guess.size(), correct);
    }

    /** An entity: its type and its first and last word, counted over the joined sentences. */
    record Entity(String type, int first, int last) {
    }

    /** seqeval's {@code get_entities} of a list of sentences. */
    static Set<Entity> entities(List<List<String>> sentences, String what) {
        Set<Entity> out = new HashSet<>();
        String previousTag = "O", previousType = "";
        int begin = 0, i = 0;
        for (List<String> sentence : sentences) {
            for (int w = 0; w <= sentence.size(); w++, i++) {
                String chunk = w < sentence.size() ? sentence.get(w) : "O"; // the O that ends each sentence
                String tag = chunk.isEmpty() ? "" : chunk.substring(0, 1);
                String rest = chunk.isEmpty() ? "" : chunk.substring(1);
                int dash = rest.indexOf('-');
                String type = dash >= 0 ? rest.substring(dash + 1) : rest;
                if (type.isEmpty()) type = "_";
                if (endOfChunk(previousTag, tag, previousType, type)) out.add(new Entity(previousType, begin, i - 1));
                if (startOfChunk(previousTag, tag, previousType, type)) begin = i;
                previousTag = tag;
                previousType = type;
            }
        }
        return out;
    }

    private static boolean endOfChunk(String previousTag, String tag, String previousType, String type) {
        return switch (previousTag) {
            case "E", "S" -> true;
            case "B", "I" -> tag.equals("B") || tag.equals("S") || tag.equals("O") || !previousType.equals(type);
            case "O", "." -> false;
            default -> !previousType.equals(type);
        };
    }

    private static boolean startOfChunk(String previousTag, String tag, String previousType, String type) {
        if (tag.equals("B") || tag.equals("S")) return true;
        if ((previousTag.equals("E") || previousTag.equals("S") || previousTag.equals("O")) && (tag.equals("E") || tag.equals("I"))) {
            return true;
        }
        return !tag.equals("O") && !tag.equals(".") && !previousType.equals(type);
    }
}
