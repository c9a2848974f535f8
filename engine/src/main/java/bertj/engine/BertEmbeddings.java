package bertj.engine;

import bertj.loader.BertConfig;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code BertEmbeddings}: LayerNorm(word_embeddings[input_ids] + position_embeddings[position]
 * + token_type_embeddings[token_type_ids]), positions 0..seq-1 in every sequence.
 */
final class BertEmbeddings {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final int hidden;
    private final int vocabSize;
    private final int typeVocabSize;
    private final MemorySegment wordEmbeddings;      // [vocab, H]
    private final MemorySegment positionEmbeddings;  // [max_position, H]
    private final MemorySegment tokenTypeEmbeddings; // [type_vocab, H]
    private final MemorySegment gamma;
    private final MemorySegment beta;
    private final double eps;

    BertEmbeddings(BertConfig config, Weights weights) {
        hidden = config.hiddenSize();
        vocabSize = config.vocabSize();
        typeVocabSize = config.typeVocabSize();
        wordEmbeddings = weights.mapped("embeddings.word_embeddings.weight", vocabSize, hidden);
        positionEmbeddings = weights.mapped("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = weights.mapped("embeddings.token_type_embeddings.weight", typeVocabSize, hidden);
        gamma = weights.vector("embeddings.LayerNorm.weight", hidden);
        beta = weights.vector("embeddings.LayerNorm.bias", hidden);
        eps = config.layerNormEps();
    }

    /**
     * out[T, H] for the batch's tokens. Ids must have been checked against the vocabulary. The sum and
     * its LayerNorm are formed in double and rounded once: errors made here are amplified by every
     * attention layer above, and this step costs next to nothing.
     */
    void forward(BertInput input, MemorySegment out) {
        int tokens = input.tokens();
        long rowBytes = (long) hidden * Float.BYTES;
        double[] sum = new double[hidden];
        for (int row = 0; row < tokens; row++) {
            int position = row % input.seqLen();
            long word = input.inputIds()[row] * rowBytes;
            long pos = position * rowBytes;
            long type = input.tokenTypeIds()[row] * rowBytes;
            double mean = 0;
            for (int i = 0; i < hidden; i++) {
                long at = (long) i * Float.BYTES;
                sum[i] = (double) wordEmbeddings.get(FLOAT, word + at) + positionEmbeddings.get(FLOAT, pos + at)
                        + tokenTypeEmbeddings.get(FLOAT, type + at);
                mean += sum[i];
            }
            mean /= hidden;
            double variance = 0;
            for (int i = 0; i < hidden; i++) variance += (sum[i] - mean) * (sum[i] - mean);
            double inverseStd = 1 / Math.sqrt(variance / hidden + eps);
            long dst = row * rowBytes;
            for (int i = 0; i < hidden; i++) {
                long at = (long) i * Float.BYTES;
                double normalized = (sum[i] - mean) * inverseStd * gamma.get(FLOAT, at) + beta.get(FLOAT, at);
                out.set(ValueLayout.JAVA_FLOAT, dst + at, (float) normalized);
            }
        }
    }

    void checkIds(BertInput input) {
        for (int i = 0; i < input.tokens(); i++) {
            int id = input.inputIds()[i];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("input id " + id + " at sequence " + i / input.seqLen() + ", position "
                        + i % input.seqLen() + " is outside the vocabulary (vocab_size " + vocabSize + ")");
            }
            int type = input.tokenTypeIds()[i];
            if (type < 0 || type >= typeVocabSize) {
                throw new IllegalArgumentException("token type id " + type + " at sequence " + i / input.seqLen() + ", position "
                        + i % input.seqLen() + " is outside type_vocab_size " + typeVocabSize);
            }
        }
    }
}
