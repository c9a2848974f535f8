package bertj.engine;

import bertj.kernels.ThreadPool;
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
    private final float[] gamma;
    private final float[] beta;
    private final double eps;
    /** Each thread's rows, reused across forwards: nothing is allocated per call. */
    private final ThreadLocal<Rows> scratch;

    BertEmbeddings(BertConfig config, Weights weights) {
        hidden = config.hiddenSize();
        vocabSize = config.vocabSize();
        typeVocabSize = config.typeVocabSize();
        wordEmbeddings = weights.mapped("embeddings.word_embeddings.weight", vocabSize, hidden);
        positionEmbeddings = weights.mapped("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), hidden);
        tokenTypeEmbeddings = weights.mapped("embeddings.token_type_embeddings.weight", typeVocabSize, hidden);
        gamma = weights.vector("embeddings.LayerNorm.weight", hidden).toArray(FLOAT);
        beta = weights.vector("embeddings.LayerNorm.bias", hidden).toArray(FLOAT);
        eps = config.layerNormEps();
        scratch = ThreadLocal.withInitial(() -> new Rows(hidden));
    }

    /**
     * out[T, H] for the batch's tokens, rows split over the pool. Ids must have been checked against the
     * vocabulary. The sum and its LayerNorm are formed in double and rounded once: errors made here are
     * amplified by every attention layer above.
     */
    void forward(Sequences input, MemorySegment out, ThreadPool pool) {
        int tokens = input.tokens();
        int tasks = Math.min(tokens, pool.threads());
        pool.parallelFor(tasks, task -> {
            Rows rows = scratch.get();
            for (int row = (int) ((long) tokens * task / tasks), end = (int) ((long) tokens * (task + 1) / tasks);
                    row < end; row++) {
                row(input, row, rows, out);
            }
        });
    }

    /** One task's rows: the three embedding rows copied out of the mapped file, their sum, the output row. */
    private record Rows(float[] word, float[] position, float[] type, double[] sum, float[] out) {
        Rows(int hidden) {
            this(new float[hidden], new float[hidden], new float[hidden], new double[hidden], new float[hidden]);
        }
    }

    private void row(Sequences input, int row, Rows r, MemorySegment out) {
        // Bulk copies, then loops over plain arrays: element by element reads of the mapped tables cost 5 ns each.
        MemorySegment.copy(wordEmbeddings, FLOAT, (long) input.inputIds()[row] * hidden * Float.BYTES, r.word, 0, hidden);
        MemorySegment.copy(positionEmbeddings, FLOAT, (long) input.positions()[row] * hidden * Float.BYTES, r.position, 0,
                hidden);
        MemorySegment.copy(tokenTypeEmbeddings, FLOAT, (long) input.tokenTypeIds()[row] * hidden * Float.BYTES, r.type, 0,
                hidden);
        double[] sum = r.sum;
        for (int i = 0; i < hidden; i++) {
            sum[i] = (double) r.word[i] + r.position[i] + r.type[i];
        }
        double mean = sumOf(sum, 0, false) / hidden;
        double variance = sumOf(sum, mean, true) / hidden;
        double inverseStd = 1 / Math.sqrt(variance + eps);
        for (int i = 0; i < hidden; i++) {
            r.out[i] = (float) ((sum[i] - mean) * inverseStd * gamma[i] + beta[i]);
        }
        MemorySegment.copy(r.out, 0, out, FLOAT, (long) row * hidden * Float.BYTES, hidden);
    }

    /**
     * {@code sum(v[i] - center)}, or of its squares, in four interleaved partial sums: one chain of dependent
     * double additions was most of this step's time (0.8 ms of a MiniLM forward at 512 tokens).
     */
    private static double sumOf(double[] v, double center, boolean squares) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= v.length; i += 4) {
            double d0 = v[i] - center, d1 = v[i + 1] - center, d2 = v[i + 2] - center, d3 = v[i + 3] - center;
            s0 += squares ? d0 * d0 : d0;
            s1 += squares ? d1 * d1 : d1;
            s2 += squares ? d2 * d2 : d2;
            s3 += squares ? d3 * d3 : d3;
        }
        for (; i < v.length; i++) {
            double d = v[i] - center;
            s0 += squares ? d * d : d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    void checkIds(Sequences input) {
        for (int i = 0; i < input.tokens(); i++) {
            int id = input.inputIds()[i];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("input id " + id + " at " + input.where(i)
                        + " is outside the vocabulary (vocab_size " + vocabSize + ")");
            }
            int type = input.tokenTypeIds()[i];
            if (type < 0 || type >= typeVocabSize) {
                throw new IllegalArgumentException("token type id " + type + " at " + input.where(i)
                        + " is outside type_vocab_size " + typeVocabSize);
            }
        }
    }
}
