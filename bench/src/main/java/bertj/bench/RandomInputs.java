package bertj.bench;

import bertj.engine.BertInput;
import bertj.loader.ModelDirectory;
import bertj.tokenizer.BertTokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded, valid token ids for benchmarks: every sequence is {@code [CLS] w1 ... w(seq-2) [SEP]}, all tokens
 * attended, token type 0, with the words drawn uniformly from the vocabulary minus the special tokens. Timing
 * does not depend on which ids they are, only on the shape; validity keeps every engine on its normal path.
 */
public final class RandomInputs {
    private final int vocabSize;
    private final int clsId, sepId, padId;

    private RandomInputs(int vocabSize, int clsId, int sepId, int padId) {
        this.vocabSize = vocabSize;
        this.clsId = clsId;
        this.sepId = sepId;
        this.padId = padId;
    }

    /**
     * For the model in {@code dir}: special token ids from its tokenizer files, or bert-base-uncased's
     * ([CLS] 101, [SEP] 102, [PAD] 0) when it has none.
     */
    public static RandomInputs forModel(Path dir) {
        int vocabSize;
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            vocabSize = model.config().vocabSize();
            if (model.vocabTxt().isPresent() || model.tokenizerJson().isPresent()) {
                BertTokenizer tokenizer = BertTokenizer.fromDirectory(dir);
                return new RandomInputs(vocabSize, tokenizer.clsTokenId(), tokenizer.sepTokenId(), tokenizer.padTokenId());
            }
        }
        return new RandomInputs(vocabSize, 101, 102, 0);
    }

    /** {@code batch} sequences of exactly {@code seqLen} tokens (seqLen >= 2 for [CLS] and [SEP]). */
    public BertInput batch(int batch, int seqLen, long seed) {
        if (seqLen < 2) throw new IllegalArgumentException("sequence length must be at least 2 ([CLS] and [SEP]), got " + seqLen);
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[batch * seqLen];
        for (int b = 0; b < batch; b++) {
            int row = b * seqLen;
            ids[row] = clsId;
            for (int t = 1; t < seqLen - 1; t++) ids[row + t] = word(random);
            ids[row + seqLen - 1] = sepId;
        }
        int[] mask = new int[ids.length];
        Arrays.fill(mask, 1);
        return new BertInput(batch, seqLen, ids, new int[ids.length], mask);
    }

    private int word(SplittableRandom random) {
        while (true) {
            int id = random.nextInt(vocabSize);
            if (id != clsId && id != sepId && id != padId) return id;
        }
    }
}
