package bertj.train;

import bertj.engine.Bert;
import bertj.engine.BertModel;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The frozen encoder's outputs that a head reads, computed once per example: what
 * {@code BertForSequenceClassification} feeds its classifier (the pooler output), or what
 * {@code BertForTokenClassification} feeds it (the last hidden state) at the first sub-token of each word.
 * Texts longer than the written checkpoint takes are cut to its length, with a warning.
 */
final class Features {
    /** Examples encoded per call to the encoder: the progress is reported after each. */
    private static final int CHUNK = 64;

    private Features() {
    }

    /**
     * The longest input of the checkpoint a head is written to: min(max_position_embeddings, the tokenizer's
     * model_max_length), as {@link Bert#maxLength()} finds it for a directory without sentence-transformers' files.
     */
    static int maxLength(Bert bert) {
        int tokenizerLimit = bert.tokenizer().modelMaxLength() > 0 ? bert.tokenizer().modelMaxLength() : Integer.MAX_VALUE;
        return Math.min(bert.model().config().maxPositionEmbeddings(), tokenizerLimit);
    }

    /**
     * The pooler output of each text [examples][hidden]. A model without a pooler is given an identity one (see
     * {@link TrainedHead}), so its feature is tanh of the [CLS] row, exactly what that pooler computes.
     */
    static float[][] pooled(Bert bert, List<TextExample> examples, String what, TrainingListener listener) {
        int maxLength = maxLength(bert);
        List<Encoding> encodings = new ArrayList<>();
        List<String> cut = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            TextExample e = examples.get(i);
            int index = i;
            encodings.add(encode(bert, e.text(), e.pair(), maxLength, () -> cut.add(e.where(index))));
        }
        warnCut(what, cut, examples.size(), maxLength, "texts", listener);
        int hidden = bert.model().config().hiddenSize();
        float[][] out = new float[examples.size()][];
        boolean pooler = bert.model().hasPooler();
        forward(bert, encodings, what, listener, (s, rows, pooled) -> {
            if (pooler) {
                out[s] = pooled.toArray(ValueLayout.JAVA_FLOAT);
            } else {
                float[] cls = rows.asSlice(0, (long) hidden * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
                for (int k = 0; k < hidden; k++) cls[k] = (float) Math.tanh(cls[k]);
                out[s] = cls;
            }
        });
        return out;
    }

    /**
     * The last hidden state at the first sub-token of each word that the tokens reach. Words are joined with a
     * space and tokenized as one text, which for BERT's tokenizer gives the tokens of each word alone
     * ({@code is_split_into_words}); each token goes to the word its offset falls in.
     *
     * @param features [sentence][word]: the word's row, or null for a word with no token (empty, or cut)
     */
    record WordFeatures(float[][][] features) {
    }

    static WordFeatures firstSubTokens(Bert bert, List<TaggedSentence> sentences, String what, TrainingListener listener) {
        int maxLength = maxLength(bert);
        List<Encoding> encodings = new ArrayList<>();
        List<int[]> firstTokens = new ArrayList<>(); // [word] -> its first token, or -1
        List<String> cut = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            TaggedSentence sentence = sentences.get(i);
            int[] wordStarts = new int[sentence.tokens().size()];
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < wordStarts.length; w++) {
                if (w > 0) text.append(' ');
                wordStarts[w] = text.length();
                text.append(sentence.tokens().get(w));
            }
            int index = i;
            Encoding encoding = encode(bert, text.toString(), null, maxLength, () -> cut.add(sentence.where(index)));
            int[] first = new int[wordStarts.length];
            Arrays.fill(first, -1);
            for (int t = 0; t < encoding.length(); t++) {
                if (encoding.specialTokensMask()[t] != 0) continue;
                int w = wordAt(wordStarts, encoding.starts()[t]);
                if (first[w] < 0) first[w] = t;
            }
            encodings.add(encoding);
            firstTokens.add(first);
        }
        warnCut(what, cut, sentences.size(), maxLength, "sentences", listener);
        int hidden = bert.model().config().hiddenSize();
        float[][][] out = new float[sentences.size()][][];
        forward(bert, encodings, what, listener, (s, rows, pooled) -> {
            int[] first = firstTokens.get(s);
            out[s] = new float[first.length][];
            for (int w = 0; w < first.length; w++) {
                if (first[w] < 0) continue;
                out[s][w] = rows.asSlice((long) first[w] * hidden * Float.BYTES, (long) hidden * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
            }
        });
        return new WordFeatures(out);
    }

    /** The last word starting at or before {@code offset}. */
    private static int wordAt(int[] wordStarts, int offset) {
        int found = Arrays.binarySearch(wordStarts, offset);
        return found >= 0 ? found : Math.max(0, -found - 2);
    }

    /** The text's encoding, cut to {@code maxLength} tokens (longest first for pairs) if longer, which {@code onCut} hears. */
    private static Encoding encode(Bert bert, String text, String pair, int maxLength, Runnable onCut) {
        Encoding encoding = bert.tokenizer().encode(text, pair, EncodeOptions.DEFAULT);
        if (encoding.length() <= maxLength) return encoding;
        onCut.run();
        return bert.tokenizer().encode(text, pair, EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, maxLength));
    }

    private static void warnCut(String what, List<String> cut, int total, int maxLength, String unit, TrainingListener listener) {
        if (cut.isEmpty()) return;
        String some = String.join(", ", cut.subList(0, Math.min(5, cut.size()))) + (cut.size() > 5 ? ", ..." : "");
        listener.warning(what + ": " + cut.size() + " of " + total + " " + unit + " are longer than the model's " + maxLength
                + " tokens and were cut to " + maxLength + " (" + some + ")");
    }

    /** Runs the encoder on the encodings, {@link #CHUNK} at a time, reporting the progress. */
    private static void forward(Bert bert, List<Encoding> encodings, String what, TrainingListener listener, BertModel.SequenceOutput output) {
        for (int from = 0; from < encodings.size(); from += CHUNK) {
            int first = from, to = Math.min(encodings.size(), from + CHUNK);
            bert.forward(encodings.subList(from, to), (s, rows, pooled) -> output.accept(first + s, rows, pooled));
            listener.encoded(what, to, encodings.size());
        }
    }
}
