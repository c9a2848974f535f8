package bertj.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReferenceBert}, the double-precision spec of the whole model, reproduces the float64 reference to 1e-6:
 * the formulas the engine implements are the reference's, so any larger engine error is rounding.
 */
class ReferenceBertTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-bert", "tiny-bert-seqcls", "tiny-bert-tokcls", "tiny-bert-qa", "tiny-bert-bf16-sharded-legacy"})
    void doublePrecisionTwinMatchesTheReference(String name) {
        try (Reference ref = new Reference(name)) {
            for (String batch : ref.batches()) {
                double[][][] out = ReferenceBert.run(ref.modelDir, ref.input(batch), false);
                float[] expected = ref.floats(batch + ".last_hidden_state");
                double worst = 0;
                int i = 0;
                for (double[][] seq : out) for (double[] row : seq) for (double v : row) worst = Math.max(worst, Math.abs(v - expected[i++]));
                assertTrue(worst <= 1e-6, name + " " + batch + " max abs diff " + worst);
            }
        }
    }
}
