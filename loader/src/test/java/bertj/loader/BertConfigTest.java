package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BertConfigTest {

    private static String error(String json) {
        return assertThrows(ModelFormatException.class, () -> BertConfig.parse(json, "some/config.json")).getMessage();
    }

    private static void assertError(String json, String... fragments) {
        String message = error(json);
        assertTrue(message.contains("some/config.json"), message);
        for (String f : fragments) assertTrue(message.contains(f), "\"" + f + "\" not in: " + message);
    }

    @Test
    void missingFieldsTakeHuggingFaceDefaults() {
        BertConfig c = BertConfig.parse("{}", "config.json");
        assertEquals("bert", c.modelType());
        assertEquals(30522, c.vocabSize());
        assertEquals(768, c.hiddenSize());
        assertEquals(12, c.numHiddenLayers());
        assertEquals(12, c.numAttentionHeads());
        assertEquals(3072, c.intermediateSize());
        assertEquals(HiddenAct.GELU, c.hiddenAct());
        assertEquals(512, c.maxPositionEmbeddings());
        assertEquals(2, c.typeVocabSize());
        assertEquals(1e-12, c.layerNormEps());
        assertEquals(0, c.padTokenId());
        assertEquals("absolute", c.positionEmbeddingType());
        assertEquals(List.of(), c.architectures());
        assertEquals(Map.of(0, "LABEL_0", 1, "LABEL_1"), c.id2label());
        assertEquals(Map.of("LABEL_0", 0, "LABEL_1", 1), c.label2id());
        assertEquals(2, c.numLabels());
        assertEquals(64, c.headSize());
        assertEquals(c, BertConfig.builder().build());
        // bert-base-uncased's BertModel has 109,482,240 parameters (pooler included)
        assertEquals(109_482_240L, c.parameterCount(true));
        assertEquals(109_482_240L - 768 * 768 - 768, c.parameterCount(false));
    }

    @Test
    void readsTheFixtureConfigs() {
        BertConfig seqcls = BertConfig.load(TestData.model("tiny-bert-seqcls").resolve("config.json"));
        assertEquals(32, seqcls.hiddenSize());
        assertEquals(HiddenAct.GELU_TANH, seqcls.hiddenAct());
        assertEquals(64, seqcls.maxPositionEmbeddings());
        assertEquals(List.of("BertForSequenceClassification"), seqcls.architectures());
        assertEquals(Map.of(0, "negative", 1, "neutral", 2, "positive"), seqcls.id2label());
        assertEquals(Map.of("negative", 0, "neutral", 1, "positive", 2), seqcls.label2id());
        assertEquals(8, seqcls.headSize());

        BertConfig legacy = BertConfig.load(TestData.model("tiny-bert-bf16-sharded-legacy").resolve("config.json"));
        assertEquals(HiddenAct.RELU, legacy.hiddenAct());
        assertEquals(1e-5, legacy.layerNormEps());
        assertEquals(2, legacy.numHiddenLayers());
    }

    @Test
    void activationSpellings() {
        assertEquals(HiddenAct.GELU, BertConfig.parse("{\"hidden_act\":\"gelu_python\"}", "c").hiddenAct());
        assertEquals(HiddenAct.GELU_TANH, BertConfig.parse("{\"hidden_act\":\"gelu_pytorch_tanh\"}", "c").hiddenAct());
        assertEquals(HiddenAct.GELU_TANH, BertConfig.parse("{\"hidden_act\":\"gelu_fast\"}", "c").hiddenAct());
        assertError("{\"hidden_act\":\"swish\"}", "unsupported hidden_act \"swish\"", "gelu_new");
    }

    @Test
    void labels() {
        BertConfig five = BertConfig.parse("{\"num_labels\": 5}", "c");
        assertEquals(5, five.numLabels());
        assertEquals("LABEL_4", five.id2label().get(4));
        // as in PretrainedConfig, id2label wins over a disagreeing num_labels
        BertConfig both = BertConfig.parse("{\"num_labels\": 5, \"id2label\": {\"1\": \"b\", \"0\": \"a\"}}", "c");
        assertEquals(List.of(0, 1), List.copyOf(both.id2label().keySet()));
        assertEquals(Map.of("a", 0, "b", 1), both.label2id());
        assertError("{\"id2label\": {\"zero\": \"a\"}}", "id2label", "\"zero\"");
        assertError("{\"id2label\": {\"0\": \"a\", \"2\": \"c\"}}", "id2label ids must be 0..1");
        assertError("{\"id2label\": {\"0\": 3}}", "id2label", "must be a string");
        assertError("{\"label2id\": {\"a\": \"0\"}}", "label2id", "must be an integer");
        assertError("{\"num_labels\": 0}", "num_labels");
    }

    @Test
    void problemType() {
        assertEquals(null, BertConfig.parse("{}", "c").problemType());
        assertEquals(null, BertConfig.parse("{\"problem_type\": null}", "c").problemType());
        BertConfig multi = BertConfig.parse("{\"problem_type\": \"multi_label_classification\"}", "c");
        assertEquals("multi_label_classification", multi.problemType());
        assertEquals(multi, BertConfig.parse(multi.toJson(), "round trip"));
        assertError("{\"problem_type\": \"ranking\"}", "problem_type \"ranking\" is not one of [regression, "
                + "single_label_classification, multi_label_classification]");
        assertError("{\"problem_type\": 1}", "\"problem_type\"", "a string");
    }

    @Test
    void wrongJsonTypesNameTheFieldAndFile() {
        assertError("{\"hidden_size\": \"768\"}", "\"hidden_size\"", "an integer", "string \"768\"");
        assertError("{\"hidden_size\": 768.5}", "\"hidden_size\"", "an integer");
        assertError("{\"num_hidden_layers\": null}", "\"num_hidden_layers\"");
        assertError("{\"layer_norm_eps\": \"1e-12\"}", "\"layer_norm_eps\"", "a number");
        assertError("{\"architectures\": \"BertModel\"}", "\"architectures\"", "array of strings");
        assertError("{\"hidden_act\": 1}", "\"hidden_act\"", "a string");
        assertError("{\"vocab_size\": 10000000000}", "\"vocab_size\"");
        assertError("[]", "JSON object");
        assertError("{\"hidden_size\": 768,}", "malformed JSON");
        assertError("{\"hidden_size\": 768, \"hidden_size\": 384}", "hidden_size");
    }

    @Test
    void inconsistentOrUnsupportedValues() {
        assertError("{\"hidden_size\": 100, \"num_attention_heads\": 12}",
                "hidden_size (100) is not a multiple of num_attention_heads (12)");
        assertError("{\"position_embedding_type\": \"relative_key\"}", "position_embedding_type \"relative_key\"",
                "not supported");
        assertError("{\"intermediate_size\": 0}", "intermediate_size must be positive");
        assertError("{\"model_type\": \"roberta\"}", "model_type \"roberta\"");
        assertError("{\"is_decoder\": true}", "is_decoder");
        assertError("{\"layer_norm_eps\": -1}", "layer_norm_eps");
    }

    @Test
    void nullPadTokenAndIgnoredTrainingFields() {
        BertConfig c = BertConfig.parse("{\"pad_token_id\": null, \"hidden_dropout_prob\": 0.1, "
                + "\"attention_probs_dropout_prob\": 0.1, \"initializer_range\": 0.02, \"use_cache\": true}", "c");
        assertEquals(0, c.padTokenId());
    }

    @Test
    void toJsonReadsBackEqual() {
        BertConfig c = BertConfig.builder().hiddenSize(48).numAttentionHeads(2).numHiddenLayers(3)
                .intermediateSize(96).hiddenAct(HiddenAct.GELU_TANH).layerNormEps(1e-5).maxPositionEmbeddings(64)
                .architectures(List.of("BertForTokenClassification"))
                .id2label(Map.of(0, "O", 1, "B-PER", 2, "I-PER")).build();
        assertEquals(c, BertConfig.parse(c.toJson(), "round trip"));
        assertTrue(c.toJson().contains("\"hidden_act\" : \"gelu_new\""), c.toJson());
        assertTrue(c.toJson().contains("\"1\" : \"B-PER\""), c.toJson());
        BertConfig seqcls = BertConfig.load(TestData.model("tiny-bert-seqcls").resolve("config.json"));
        assertEquals(seqcls, BertConfig.parse(seqcls.toJson(), "round trip"));
    }

    @Test
    void builderValidatesToo() {
        var e = assertThrows(IllegalArgumentException.class, () -> BertConfig.builder().numAttentionHeads(5).build());
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
    }
}
