package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A sequence's outputs do not depend on the batch it runs in: alone, or padded to a longer neighbour's length,
 * its tokens' hidden states are the same bits (so embeddings and head scores are too). Lengths on both sides
 * of whole vectors (16 floats with AVX-512), where the softmax once took a scalar tail.
 */
class PaddingInvarianceTest {
    @Test
    void aSequenceGivesTheSameBitsAloneAndPaddedInABatch() {
        try (Reference ref = new Reference("tiny-bert"); BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL)) {
            for (int length : new int[] {1, 4, 15, 16, 17, 33}) {
                for (int padTo : new int[] {length + 1, length + 7, 40, 64}) {
                    if (padTo <= length) continue;
                    int[] ids = tokens(length, 5), longer = tokens(padTo, 9);
                    float[][] alone = model.forward(BertInput.of(ids, new int[length])).lastHiddenState()[0];
                    float[][] padded = model.forward(BertInput.padded(List.of(ids, longer),
                            List.of(new int[length], new int[padTo]), 0)).lastHiddenState()[0];
                    for (int t = 0; t < length; t++) {
                        assertArrayEquals(alone[t], padded[t], "length " + length + " padded to " + padTo + ", token " + t);
                    }
                }
            }
        }
    }

    /** [CLS] some ids [SEP] (tiny-bert's vocabulary: 2 and 3), {@code n} in all. */
    private static int[] tokens(int n, int seed) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 10 + (i * seed + 7) % 50;
        ids[0] = 2;
        if (n > 1) ids[n - 1] = 3;
        return ids;
    }
}
