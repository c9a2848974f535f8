package bertj.engine;

import bertj.kernels.ThreadPool;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hidden state and the pooler of each reference model, on the padded batches the reference
 * was computed on (padded positions included), against the float64 reference.
 *
 * <p>Tolerance 1e-5 absolute, in both kernel modes. tiny-bert-qa's sharp attention amplifies float32
 * rounding the most: ONNX Runtime lands 2.1e-5 from the reference there and a plain numpy float32 forward
 * 2.3e-5; bertj's vector kernels 9.5e-6 (attention divides its output rows by the softmax sums instead of
 * rounding every probability), its scalar twins less.
 */
class BertModelParityTest {
    static final double TOLERANCE = 1e-5;
    static final ThreadPool POOL = new ThreadPool(2);

    @ParameterizedTest
    @CsvSource({"tiny-bert,VECTOR", "tiny-bert-seqcls,VECTOR", "tiny-bert-tokcls,VECTOR", "tiny-bert-qa,VECTOR", "tiny-bert-bf16-sharded-legacy,VECTOR",
            "tiny-bert,SCALAR", "tiny-bert-seqcls,SCALAR", "tiny-bert-tokcls,SCALAR", "tiny-bert-qa,SCALAR", "tiny-bert-bf16-sharded-legacy,SCALAR"})
    void everyHiddenStateMatchesTheReference(String name, KernelMode mode) {
        double tolerance = TOLERANCE;
        try (Reference ref = new Reference(name); BertModel model = BertModel.load(ref.modelDir, POOL, mode)) {
            int layers = model.config().numHiddenLayers();
            for (String batch : ref.batches()) {
                BaseModelOutputWithPooling out = model.forward(ref.input(batch), true, false);
                String where = name + " " + mode + " " + batch;
                assertEquals(layers + 1, out.hiddenStates().size());
                for (int k = 0; k <= layers; k++) {
                    double diff = Reference.maxAbsDiff(ref.floats(batch + ".hidden_states." + k), out.hiddenStates().get(k));
                    assertTrue(diff <= tolerance, where + " hidden_states." + k + " max abs diff " + diff);
                }
                double last = Reference.maxAbsDiff(ref.floats(batch + ".last_hidden_state"), out.lastHiddenState());
                assertTrue(last <= tolerance, where + " last_hidden_state max abs diff " + last);
                if (ref.has(batch + ".pooler_output")) {
                    assertNotNull(out.poolerOutput(), name + " has a pooler");
                    double pooled = Reference.maxAbsDiff(ref.floats(batch + ".pooler_output"), out.poolerOutput());
                    assertTrue(pooled <= tolerance, where + " pooler_output max abs diff " + pooled);
                } else {
                    assertNull(out.poolerOutput(), name + " has no pooler in its checkpoint");
                }
            }
        }
    }
}
