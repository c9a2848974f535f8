package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * An attention mask with zeros before a sequence's last attended token (Hugging Face's mask may mask any token, not
 * only trailing padding): the masked tokens are left out of every query's keys, as in PyTorch. The engine's key
 * counts come from the int mask (Sequences), and attention gets the mask only for such a batch. Both kernel modes
 * land within {@link BertModelParityTest#TOLERANCE} of the double-precision spec ({@link ReferenceBert}), and the
 * SIMD kernels give the bits of their scalar twins.
 */
class MaskedTokensTest {
    @Test
    void tokensMaskedInTheMiddleAreLeftOutOfAttention() {
        int seqLen = 21;
        int[] ids = new int[2 * seqLen];
        int[] mask = new int[2 * seqLen];
        for (int t = 0; t < ids.length; t++) ids[t] = 10 + (t * 7 + 3) % 50;
        Arrays.fill(mask, 1);
        mask[3] = mask[4] = mask[9] = 0;                        // holes in the first sequence
        for (int t = seqLen + 15; t < 2 * seqLen; t++) mask[t] = 0; // trailing padding and a hole in the second
        mask[seqLen + 2] = 0;
        BertInput input = new BertInput(2, seqLen, ids, new int[ids.length], mask);
        BertInput unmasked = new BertInput(2, seqLen, ids, new int[ids.length], ones(ids.length));
        try (Reference ref = new Reference("tiny-bert")) {
            double[][][] spec = ReferenceBert.run(ref.modelDir, input, false);
            float[][][] simd = null;
            for (KernelMode mode : KernelMode.values()) {
                try (BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL, mode)) {
                    model.setTwinForwards(0);
                    float[][][] out = model.forward(input).lastHiddenState();
                    double worst = 0;
                    for (int b = 0; b < 2; b++) {
                        for (int t = 0; t < seqLen; t++) {
                            for (int i = 0; i < out[b][t].length; i++) worst = Math.max(worst, Math.abs(out[b][t][i] - spec[b][t][i]));
                        }
                    }
                    assertTrue(worst <= BertModelParityTest.TOLERANCE, mode + ": max abs diff from the spec " + worst);
                    assertFalse(Arrays.deepEquals(out, model.forward(unmasked).lastHiddenState()), mode + ": the mask changes the outputs");
                    if (mode == KernelMode.VECTOR) {
                        simd = out;
                        model.setTwinForwards(1);
                        float[][][] twins = model.forward(input).lastHiddenState();
                        for (int b = 0; b < 2; b++) {
                            for (int t = 0; t < seqLen; t++) assertArrayEquals(simd[b][t], twins[b][t], "twins, sequence " + b + ", token " + t);
                        }
                    }
                }
            }
        }
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }
}
