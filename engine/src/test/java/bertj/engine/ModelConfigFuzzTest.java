package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.ThreadPool;
import bertj.loader.ModelFormatException;
import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import bertj.testsupport.GuidedTargets;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A model directory whose config.json is fuzzed against real weights (tiny-bert-seqcls): loading ends in a
 * {@link ModelFormatException} naming what does not fit, or in a model that embeds and classifies (a head the
 * config does not describe is an {@link UnsupportedOperationException}). Numbers in the config never size
 * anything before the weights confirm them.
 */
class ModelConfigFuzzTest {
    private static final Predicate<Throwable> DOCUMENTED = t -> t instanceof ModelFormatException
            || t instanceof UnsupportedOperationException;

    private FuzzHarness.Scratch scratch;
    private Path model;
    private ThreadPool pool;
    private final GuidedTargets guided = new GuidedTargets();

    @BeforeEach
    void createModel() throws IOException {
        scratch = FuzzHarness.scratch();
        pool = new ThreadPool(2);
        Path source = BertReliabilityTest.model("tiny-bert-seqcls");
        model = Files.createDirectories(scratch.dir().resolve("model"));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer_config.json")) Files.copy(source.resolve(f), model.resolve(f));
        // the first 3000 tokens of the vocabulary: the tokenizer loads in a millisecond
        Files.write(model.resolve("vocab.txt"), Files.readAllLines(source.resolve("vocab.txt")).subList(0, 3000));
    }

    @AfterEach
    void deleteModel() throws IOException {
        pool.close();
        scratch.close();
    }

    @Test
    void configJsonAgainstRealWeights() throws IOException {
        modelConfig().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void configJsonAgainstRealWeightsGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "model-config", this::modelConfig);
    }

    private FuzzHarness.Fuzzing modelConfig() throws IOException {
        byte[] seed = Files.readAllBytes(model.resolve("config.json"));
        FuzzMutator m = new FuzzMutator(List.of("model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                "num_attention_heads", "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
                "layer_norm_eps", "pad_token_id", "architectures", "id2label", "label2id", "num_labels", "gelu", "gelu_new",
                "relu", "BertForSequenceClassification", "BertForTokenClassification", "BertForQuestionAnswering", "BertModel"));
        return new FuzzHarness.Fuzzing("model-config", List.of(seed), m::json, input -> {
            Files.write(model.resolve("config.json"), input);
            try (Bert bert = Bert.load(model, pool)) {
                assertEquals(bert.model().config().hiddenSize(), bert.embed("hello world").length);
                bert.classify("a fine film, warmly recommended", null, true);
            }
        }, DOCUMENTED);
    }

    /**
     * num_hidden_layers = 0 (found by the fuzzer): the embeddings alone, no layer asked for. Looking up the stored
     * precision in layer 0 once threw an IllegalArgumentException from the loader.
     */
    @Test
    void noLayersLoadsTheEmbeddingsAlone() throws IOException {
        String config = Files.readString(model.resolve("config.json")).replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 0");
        Files.writeString(model.resolve("config.json"), config);
        try (Bert bert = Bert.load(model, pool)) {
            assertEquals(bertj.kernels.Precision.FP32, bert.model().precision());
            assertEquals(bert.model().config().hiddenSize(), bert.embed("hello world").length);
        }
    }

    /** num_hidden_layers = 2^31 - 1 over a two-layer checkpoint fails at layer 2, without sizing an array by it. */
    @Test
    void aHugeLayerCountFailsAtTheFirstMissingLayer() throws IOException {
        String config = Files.readString(model.resolve("config.json")).replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2147483647");
        Files.writeString(model.resolve("config.json"), config);
        long before = FuzzHarness.allocatedBytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BertModel.load(model, pool));
        long allocated = FuzzHarness.allocatedBytes() - before;
        assertTrue(e.getMessage().contains("encoder.layer.2."), e.getMessage());
        assertTrue(allocated < 64 << 20, "allocated " + (allocated >> 20) + " MiB of heap to refuse the config");
    }
}
