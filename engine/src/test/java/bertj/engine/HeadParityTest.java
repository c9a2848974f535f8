package bertj.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each head's logits on the reference batches, within 1e-5 absolute of the float64 reference.
 *
 * <p>The heads are computed the same way in both kernel modes (a double-accumulating scalar Linear on
 * the float hidden states), so the head arithmetic is checked once, on the scalar model whose hidden
 * states are the closest to the reference. The vector model's hidden states, which the heads read, are
 * checked at the same 1e-5 in {@link BertModelParityTest}; its logits add the head's gain on top of
 * that float32 rounding noise.
 */
class HeadParityTest {
    static final double TOLERANCE = BertModelParityTest.TOLERANCE;

    @Test
    void sequenceClassificationLogits() {
        try (Reference ref = new Reference("tiny-bert-seqcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.SCALAR)) {
            for (String batch : ref.batches()) {
                double diff = Reference.maxAbsDiff(ref.floats(batch + ".logits"), bert.sequenceLogits(ref.input(batch)));
                assertTrue(diff <= TOLERANCE, batch + " logits max abs diff " + diff);
            }
        }
    }

    @Test
    void tokenClassificationLogits() {
        try (Reference ref = new Reference("tiny-bert-tokcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.SCALAR)) {
            for (String batch : ref.batches()) {
                double diff = Reference.maxAbsDiff(ref.floats(batch + ".logits"), bert.tokenLogits(ref.input(batch)));
                assertTrue(diff <= TOLERANCE, batch + " logits max abs diff " + diff);
            }
        }
    }

    @Test
    void questionAnsweringStartAndEndLogits() {
        try (Reference ref = new Reference("tiny-bert-qa"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.SCALAR)) {
            for (String batch : ref.batches()) {
                float[][][] logits = bert.spanLogits(ref.input(batch));
                float[][] start = new float[logits.length][], end = new float[logits.length][];
                for (int b = 0; b < logits.length; b++) {
                    start[b] = new float[logits[b].length];
                    end[b] = new float[logits[b].length];
                    for (int t = 0; t < logits[b].length; t++) {
                        start[b][t] = logits[b][t][0];
                        end[b][t] = logits[b][t][1];
                    }
                }
                double startDiff = Reference.maxAbsDiff(ref.floats(batch + ".start_logits"), start);
                double endDiff = Reference.maxAbsDiff(ref.floats(batch + ".end_logits"), end);
                assertTrue(startDiff <= TOLERANCE, batch + " start_logits max abs diff " + startDiff);
                assertTrue(endDiff <= TOLERANCE, batch + " end_logits max abs diff " + endDiff);
            }
        }
    }
}
