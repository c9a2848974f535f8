package bertj.engine;

import bertj.engine.Results.Entity;
import bertj.tokenizer.Encoding;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code BertForTokenClassification}'s head, {@code classifier(last_hidden_state)} per token, and Hugging Face's
 * token-classification pipeline after it, with {@code aggregation_strategy="first"}: each word takes the label of
 * its first sub-word; consecutive words with the same entity type (not starting a new one with B-) form one
 * entity; "O" is dropped.
 */
final class TokenClassificationHead {
    private final Dense classifier;
    private final String[] labels;

    TokenClassificationHead(Dense classifier, String[] labels) {
        this.classifier = classifier;
        this.labels = labels;
    }

    /** Logits [batch][seq][labels] from the last hidden state. */
    float[][][] logits(BaseModelOutputWithPooling output) {
        return classifier.applyPerToken(output.lastHiddenState());
    }

    /** Logits [seq][labels] of one sequence's hidden states [seq][hidden]. */
    float[][] logits(float[][] hiddenStates) {
        return classifier.apply(hiddenStates);
    }

    private record Word(String label, double score, int start, int end) {
    }

    /** The entities of {@code text}, from its encoding and its tokens' logits [seq][labels]. */
    List<Entity> entities(String text, Encoding encoding, float[][] logits) {
        List<Word> words = new ArrayList<>();
        int[] wordIds = encoding.wordIds();
        int previousWord = -1;
        for (int t = 0; t < encoding.length(); t++) {
            if (encoding.specialTokensMask()[t] != 0 || encoding.attentionMask()[t] == 0) continue;
            int word = wordIds[t];
            if (word >= 0 && word == previousWord) {
                // a later sub-word: widens the word's span, keeps its label
                Word last = words.removeLast();
                words.add(new Word(last.label, last.score, last.start, encoding.ends()[t]));
                continue;
            }
            previousWord = word;
            double[] probs = Probabilities.softmax(logits[t]);
            int best = 0;
            for (int i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
            words.add(new Word(labels[best], probs[best], encoding.starts()[t], encoding.ends()[t]));
        }

        List<Entity> entities = new ArrayList<>();
        List<Word> group = new ArrayList<>();
        for (Word word : words) {
            if (!group.isEmpty() && (!type(word.label).equals(type(group.getLast().label)) || word.label.startsWith("B-"))) {
                addGroup(text, group, entities);
                group.clear();
            }
            group.add(word);
        }
        addGroup(text, group, entities);
        return entities;
    }

    /** "B-PER" and "I-PER" -> "PER"; a label outside the B-/I- scheme is its own type. */
    private static String type(String label) {
        return label.startsWith("B-") || label.startsWith("I-") ? label.substring(2) : label;
    }

    private static void addGroup(String text, List<Word> group, List<Entity> out) {
        if (group.isEmpty()) return;
        String type = type(group.getFirst().label);
        if (type.equals("O")) return;
        double score = group.stream().mapToDouble(Word::score).average().orElse(0);
        int start = group.getFirst().start, end = group.getLast().end;
        out.add(new Entity(type, text.substring(start, end), start, end, score));
    }
}
