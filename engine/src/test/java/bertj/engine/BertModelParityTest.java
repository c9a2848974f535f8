package bertj.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hidden state and the pooler of each reference model, on the padded batches the reference
 * was computed on (padded positions included), within 1e-5 absolute of the float64 reference.
 */
class BertModelParityTest {
    static final double TOLERANCE = 1e-5;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-bert", "tiny-bert-seqcls", "tiny-bert-tokcls", "tiny-bert-qa", "tiny-bert-bf16-sharded-legacy"})
    void everyHiddenStateMatchesTheReference(String name) {
        try (Reference ref = new Reference(name); BertModel model = BertModel.load(ref.modelDir)) {
            int layers = model.config().numHiddenLayers();
            for (String batch : ref.batches()) {
                BertOutput out = model.forward(ref.input(batch), true, false);
                assertEquals(layers + 1, out.hiddenStates().size());
                for (int k = 0; k <= layers; k++) {
                    double diff = Reference.maxAbsDiff(ref.floats(batch + ".hidden_states." + k), out.hiddenStates().get(k));
                    assertTrue(diff <= TOLERANCE, name + " " + batch + " hidden_states." + k + " max abs diff " + diff);
                }
                double last = Reference.maxAbsDiff(ref.floats(batch + ".last_hidden_state"), out.lastHiddenState());
                assertTrue(last <= TOLERANCE, name + " " + batch + " last_hidden_state max abs diff " + last);
                if (ref.has(batch + ".pooler_output")) {
                    assertNotNull(out.poolerOutput(), name + " has a pooler");
                    double pooled = Reference.maxAbsDiff(ref.floats(batch + ".pooler_output"), out.poolerOutput());
                    assertTrue(pooled <= TOLERANCE, name + " " + batch + " pooler_output max abs diff " + pooled);
                } else {
                    assertNull(out.poolerOutput(), name + " has no pooler in its checkpoint");
                }
            }
        }
    }
}
