package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.Precision;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A whole model with bf16 or int8 Linear weights: the SIMD kernels against the reference kernels on the same
 * rounded weights (the reference rounds them as the packing does), within the fp32 parity tolerance, while the
 * rounding itself moves the outputs from fp32's by far more. A BF16 checkpoint loads as bf16 by default.
 */
class ReducedPrecisionModelTest {
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"BF16", "INT8"})
    void theSimdKernelsMatchTheReferenceOnTheSameRoundedWeights(Precision precision) {
        try (Reference ref = new Reference("tiny-bert");
             BertModel fast = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.VECTOR, precision);
             BertModel reference = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.SCALAR, precision);
             BertModel full = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.VECTOR, Precision.FP32)) {
            assertEquals(precision, fast.precision());
            for (String batch : ref.batches()) {
                float[][][] ours = fast.forward(ref.input(batch)).lastHiddenState();
                double fromReference = maxAbsDiff(reference.forward(ref.input(batch)).lastHiddenState(), ours);
                double fromFp32 = maxAbsDiff(full.forward(ref.input(batch)).lastHiddenState(), ours);
                assertTrue(fromReference <= BertModelParityTest.TOLERANCE, precision + " " + batch + ": " + fromReference);
                assertTrue(fromFp32 > 10 * BertModelParityTest.TOLERANCE, precision + " " + batch + " moved only " + fromFp32);
            }
        }
    }

    private static double maxAbsDiff(float[][][] a, float[][][] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                for (int k = 0; k < a[i][j].length; k++) worst = Math.max(worst, Math.abs(a[i][j][k] - b[i][j][k]));
            }
        }
        return worst;
    }

    @ParameterizedTest
    @EnumSource(KernelMode.class)
    void aBf16CheckpointLoadsAsBf16(KernelMode mode) {
        try (Reference ref = new Reference("tiny-bert-bf16-sharded-legacy");
             BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL, mode, null)) {
            assertEquals(Precision.BF16, model.precision());
        }
    }
}
