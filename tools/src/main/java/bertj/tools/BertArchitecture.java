package bertj.tools;

import static bertj.tools.TorchModule.child;
import static bertj.tools.TorchModule.dropout;
import static bertj.tools.TorchModule.embedding;
import static bertj.tools.TorchModule.layerNorm;
import static bertj.tools.TorchModule.leaf;
import static bertj.tools.TorchModule.linear;

import bertj.loader.BertConfig;
import bertj.loader.ModelFormatException;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The module tree that {@code transformers} builds for a BERT config ({@code modeling_bert.py}: BertModel,
 * BertEmbeddings, BertLayer, ..., and the task heads), for printing as {@code print(model)} does.
 *
 * @param hiddenAct config.json's spelling, which decides the activation module's class name
 * @param padTokenId the word embedding's padding_idx; null when config.json has {@code "pad_token_id": null}
 * @param classifierDropout null when not set (the heads then use hiddenDropout)
 */
record BertArchitecture(BertConfig config, String hiddenAct, Integer padTokenId, double hiddenDropout,
                        double attentionDropout, Double classifierDropout) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code transformers.activations.ACT2CLS}: hidden_act -> the module class it instantiates. */
    private static final Map<String, String> ACTIVATION_CLASSES = Map.of(
            "gelu", "GELUActivation", "gelu_python", "GELUActivation", "gelu_new", "NewGELUActivation",
            "gelu_pytorch_tanh", "GELUTanh", "gelu_fast", "FastGELUActivation", "relu", "ReLU");
    static final List<String> ARCHITECTURES = List.of("BertModel", "BertForSequenceClassification",
            "BertForTokenClassification", "BertForQuestionAnswering");

    /** Reads the fields the loader's BertConfig leaves out (dropouts, spellings) from config.json itself. */
    static BertArchitecture read(Path configJson, BertConfig config) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(TextFiles.readUtf8(configJson));
        } catch (JacksonException e) {
            throw new ModelFormatException(configJson + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode pad = root.path("pad_token_id");
        JsonNode classifier = root.path("classifier_dropout");
        return new BertArchitecture(config,
                root.path("hidden_act").asText(config.hiddenAct().configName()),
                pad.isNull() ? null : config.padTokenId(),
                root.path("hidden_dropout_prob").asDouble(0.1),
                root.path("attention_probs_dropout_prob").asDouble(0.1),
                classifier.isNumber() ? classifier.asDouble() : null);
    }

    /** The first of config.json's architectures, or BertModel when it lists none. */
    String architecture() {
        return config.architectures().isEmpty() ? "BertModel" : config.architectures().getFirst();
    }

    /** The model for {@link #architecture()}; an architecture bertj has no head for shows as its BertModel. */
    TorchModule model(boolean withPooler) {
        double headDropout = classifierDropout != null ? classifierDropout : hiddenDropout;
        return switch (architecture()) {
            case "BertForSequenceClassification" -> TorchModule.of("BertForSequenceClassification",
                    child("bert", bertModel(withPooler)),
                    child("dropout", dropout(headDropout)),
                    child("classifier", linear(config.hiddenSize(), config.numLabels())));
            case "BertForTokenClassification" -> TorchModule.of("BertForTokenClassification",
                    child("bert", bertModel(withPooler)),
                    child("dropout", dropout(headDropout)),
                    child("classifier", linear(config.hiddenSize(), config.numLabels())));
            case "BertForQuestionAnswering" -> TorchModule.of("BertForQuestionAnswering",
                    child("bert", bertModel(withPooler)),
                    child("qa_outputs", linear(config.hiddenSize(), config.numLabels())));
            default -> bertModel(withPooler);
        };
    }

    TorchModule bertModel(boolean withPooler) {
        long h = config.hiddenSize();
        TorchModule embeddings = TorchModule.of("BertEmbeddings",
                child("word_embeddings", embedding(config.vocabSize(), h, padTokenId)),
                child("position_embeddings", embedding(config.maxPositionEmbeddings(), h, null)),
                child("token_type_embeddings", embedding(config.typeVocabSize(), h, null)),
                child("LayerNorm", layerNorm(h, config.layerNormEps())),
                child("dropout", dropout(hiddenDropout)));
        TorchModule encoder = TorchModule.of("BertEncoder",
                child("layer", TorchModule.list(Collections.nCopies(config.numHiddenLayers(), layer()))));
        if (!withPooler) return TorchModule.of("BertModel", child("embeddings", embeddings), child("encoder", encoder));
        TorchModule pooler = TorchModule.of("BertPooler", child("dense", linear(h, h)), child("activation", leaf("Tanh", "", 0)));
        return TorchModule.of("BertModel", child("embeddings", embeddings), child("encoder", encoder), child("pooler", pooler));
    }

    private TorchModule layer() {
        long h = config.hiddenSize(), i = config.intermediateSize();
        TorchModule self = TorchModule.of("BertSelfAttention",
                child("query", linear(h, h)), child("key", linear(h, h)), child("value", linear(h, h)),
                child("dropout", dropout(attentionDropout)));
        TorchModule selfOutput = TorchModule.of("BertSelfOutput",
                child("dense", linear(h, h)), child("LayerNorm", layerNorm(h, config.layerNormEps())),
                child("dropout", dropout(hiddenDropout)));
        TorchModule intermediate = TorchModule.of("BertIntermediate",
                child("dense", linear(h, i)),
                child("intermediate_act_fn", leaf(ACTIVATION_CLASSES.getOrDefault(hiddenAct, "GELUActivation"), "", 0)));
        TorchModule output = TorchModule.of("BertOutput",
                child("dense", linear(i, h)), child("LayerNorm", layerNorm(h, config.layerNormEps())),
                child("dropout", dropout(hiddenDropout)));
        return TorchModule.of("BertLayer",
                child("attention", TorchModule.of("BertAttention", child("self", self), child("output", selfOutput))),
                child("intermediate", intermediate),
                child("output", output));
    }
}
