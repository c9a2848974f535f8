package bertj.engine;

import bertj.kernels.Norms;
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
    private final float eps;

    BertEmbeddings(BertConfig config, Weights weights) {
        hidden = config.hiddenSize();
        vocabSize = config.vocabSize();
        typeVocabSize = config.typeVocabSize();
        wordEmbeddings = weights.mapped("embeddings.word_embeddings.weight", vocabSize, hidden);
        positionEmbeddings = weights.mapped("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = weights.mapped("embeddings.token_type_embeddings.weight", typeVocabSize, hidden);
        gamma = weights.vector("embeddings.LayerNorm.weight", hidden);
        beta = weights.vector("embeddings.LayerNorm.bias", hidden);
        eps = (float) config.layerNormEps();
    }

    /** out[T, H] for the batch's tokens. Ids must have been checked against the vocabulary. */
    void forward(BertInput input, MemorySegment out) {
        int tokens = input.tokens();
        long rowBytes = (long) hidden * Float.BYTES;
        for (int row = 0; row < tokens; row++) {
            int position = row % input.seqLen();
            long word = input.inputIds()[row] * rowBytes;
            long pos = position * rowBytes;
            long type = input.tokenTypeIds()[row] * rowBytes;
            long dst = row * rowBytes;
            for (long i = 0; i < rowBytes; i += Float.BYTES) {
                float sum = wordEmbeddings.get(FLOAT, word + i) + positionEmbeddings.get(FLOAT, pos + i)
                        + tokenTypeEmbeddings.get(FLOAT, type + i);
                out.set(ValueLayout.JAVA_FLOAT, dst + i, sum);
            }
        }
        Norms.layerNorm(out, tokens, hidden, gamma, beta, eps, out);
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
