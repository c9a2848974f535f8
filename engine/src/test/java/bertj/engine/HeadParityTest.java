package bertj.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each head's logits on the reference batches, within 1e-5 absolute of the float64 reference, in both kernel
 * modes (the heads themselves are a double-accumulating scalar Linear on the encoder's float hidden states).
 */
class HeadParityTest {
    static final double TOLERANCE = BertModelParityTest.TOLERANCE;

    @ParameterizedTest
    @EnumSource(KernelMode.class)
    void sequenceClassificationLogits(KernelMode mode) {
        try (Reference ref = new Reference("tiny-bert-seqcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, mode)) {
            for (String batch : ref.batches()) {
                double diff = Reference.maxAbsDiff(ref.floats(batch + ".logits"), bert.sequenceLogits(ref.input(batch)));
                assertTrue(diff <= TOLERANCE, mode + " " + batch + " logits max abs diff " + diff);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KernelMode.class)
    void tokenClassificationLogits(KernelMode mode) {
        try (Reference ref = new Reference("tiny-bert-tokcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, mode)) {
            for (String batch : ref.batches()) {
                double diff = Reference.maxAbsDiff(ref.floats(batch + ".logits"), bert.tokenLogits(ref.input(batch)));
                assertTrue(diff <= TOLERANCE, mode + " " + batch + " logits max abs diff " + diff);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KernelMode.class)
    void questionAnsweringStartAndEndLogits(KernelMode mode) {
        try (Reference ref = new Reference("tiny-bert-qa"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL, mode)) {
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
                assertTrue(startDiff <= TOLERANCE, mode + " " + batch + " start_logits max abs diff " + startDiff);
                assertTrue(endDiff <= TOLERANCE, mode + " " + batch + " end_logits max abs diff " + endDiff);
            }
        }
    }
}
