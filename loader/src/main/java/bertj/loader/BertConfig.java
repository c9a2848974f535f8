package bertj.loader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A BERT {@code config.json}, read as {@code transformers.BertConfig} reads it: every field has Hugging Face's
 * default when missing. Dropout probabilities and other training-only fields are ignored.
 *
 * <p>Labels follow {@code PretrainedConfig}: {@code id2label} (JSON keys are strings, here ints) decides the
 * label count; without it, {@code num_labels} (default 2) labels named {@code LABEL_i}.
 *
 * @param padTokenId only matters for training in BERT; a JSON {@code null} reads as 0
 * @param positionEmbeddingType always "absolute", the only kind bertj implements
 * @param id2label labels by id, ids exactly 0..numLabels-1
 * @param problemType {@code PretrainedConfig.problem_type}: null, "regression", "single_label_classification" or
 *        "multi_label_classification"; it decides how a sequence classifier's logits become scores
 */
public record BertConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        HiddenAct hiddenAct,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double layerNormEps,
        int padTokenId,
        String positionEmbeddingType,
        List<String> architectures,
        Map<Integer, String> id2label,
        Map<String, Integer> label2id,
        String problemType) {

    /** The problem types {@code PretrainedConfig} accepts. */
    static final List<String> PROBLEM_TYPES = List.of("regression", "single_label_classification", "multi_label_classification");

    /** Validates the sizes; the message names the config.json fields involved. */
    public BertConfig {
        Objects.requireNonNull(hiddenAct, "hiddenAct");
        if (!"bert".equals(modelType)) {
            throw new IllegalArgumentException("model_type \"" + modelType
                    + "\" is not supported; bertj runs BERT encoders (model_type \"bert\")");
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        if (numHiddenLayers < 0) throw new IllegalArgumentException("num_hidden_layers must be >= 0, got " + numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not a multiple of "
                    + "num_attention_heads (" + numAttentionHeads + ")");
        }
        if (!(layerNormEps >= 0) || Double.isInfinite(layerNormEps)) {
            throw new IllegalArgumentException("layer_norm_eps must be a finite number >= 0, got " + layerNormEps);
        }
        if (!"absolute".equals(positionEmbeddingType)) {
            throw new IllegalArgumentException("position_embedding_type \"" + positionEmbeddingType
                    + "\" is not supported (only \"absolute\")");
        }
        architectures = List.copyOf(architectures);
        id2label = Collections.unmodifiableMap(new TreeMap<>(id2label));
        int expectedId = 0;
        for (Integer id : id2label.keySet()) {
            if (id != expectedId++) {
                throw new IllegalArgumentException("id2label ids must be 0.." + (id2label.size() - 1)
                        + ", got " + id2label.keySet());
            }
        }
        if (id2label.isEmpty()) throw new IllegalArgumentException("id2label must not be empty (num_labels >= 1)");
        label2id = Collections.unmodifiableMap(new LinkedHashMap<>(label2id));
        if (problemType != null && !PROBLEM_TYPES.contains(problemType)) {
            throw new IllegalArgumentException("problem_type \"" + problemType + "\" is not one of " + PROBLEM_TYPES);
        }
    }

    /**
     * Most labels config.json may ask for by num_labels alone, without naming them in id2label (transformers always
     * writes id2label). Each made-up label costs about 200 bytes in id2label and label2id: at the former cap, 65,536,
     * a 40-byte num_labels made 13 MB per config read, and a fuzzed config.json 107 MB in one load and round trip.
     */
    static final int MAX_UNNAMED_LABELS = 1 << 12;

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    /** Hugging Face's defaults: bert-base. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** hidden_size / num_attention_heads. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    public int numLabels() {
        return id2label.size();
    }

    /**
     * Parameters of {@code transformers.BertModel(config)}: embeddings, encoder and, if {@code withPooler},
     * the pooler. This is {@code sum(p.numel() for p in model.parameters())}.
     */
    public long parameterCount(boolean withPooler) {
        long h = hiddenSize, i = intermediateSize;
        long embeddings = ((long) vocabSize + maxPositionEmbeddings + typeVocabSize) * h + 2 * h;
        long attention = 4 * (h * h + h) + 2 * h;
        long feedForward = (i * h + i) + (h * i + h) + 2 * h;
        long pooler = withPooler ? h * h + h : 0;
        return embeddings + numHiddenLayers * (attention + feedForward) + pooler;
    }

    /** Reads a config.json file. */
    public static BertConfig load(Path configJson) {
        JsonNode root = Json.readObject(configJson);
        return fromJson(root, configJson.toString());
    }

    /**
     * Parses config.json text; {@code sourceName} names it in errors.
     *
     * @throws ModelFormatException for malformed JSON, a field of the wrong type, or an unsupported or
     *         inconsistent value, naming the field and the source
     */
    public static BertConfig parse(String json, String sourceName) {
        JsonNode root = Json.parse(json, sourceName);
        if (!root.isObject()) {
            throw new ModelFormatException(sourceName + ": expected a JSON object, found " + Json.kind(root));
        }
        return fromJson(root, sourceName);
    }

    private static BertConfig fromJson(JsonNode root, String source) {
        Fields f = new Fields(root, source);
        if (f.bool("is_decoder", false)) {
            throw new ModelFormatException(source + ": is_decoder is true; bertj runs bidirectional encoders only");
        }
        Builder b = builder()
                .modelType(f.string("model_type", "bert"))
                .vocabSize(f.integer("vocab_size", 30522))
                .hiddenSize(f.integer("hidden_size", 768))
                .numHiddenLayers(f.integer("num_hidden_layers", 12))
                .numAttentionHeads(f.integer("num_attention_heads", 12))
                .intermediateSize(f.integer("intermediate_size", 3072))
                .maxPositionEmbeddings(f.integer("max_position_embeddings", 512))
                .typeVocabSize(f.integer("type_vocab_size", 2))
                .layerNormEps(f.number("layer_norm_eps", 1e-12))
                .padTokenId(f.nullableInteger("pad_token_id", 0))
                .positionEmbeddingType(f.string("position_embedding_type", "absolute"))
                .architectures(f.stringList("architectures"))
                .problemType(f.string("problem_type", null));
        String act = f.string("hidden_act", "gelu");
        try {
            b.hiddenAct(HiddenAct.fromConfig(act));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage());
        }
        Map<Integer, String> id2label = f.id2label();
        if (id2label != null) {
            b.id2label(id2label);
        } else {
            int numLabels = f.integer("num_labels", 2);
            if (numLabels < 1) throw new ModelFormatException(source + ": num_labels must be >= 1, got " + numLabels);
            // the labels are made up one by one: a huge count would fill the heap before any weight is read
            if (numLabels > MAX_UNNAMED_LABELS) {
                throw new ModelFormatException(source + ": num_labels is " + numLabels + " without id2label; more than "
                        + MAX_UNNAMED_LABELS + " labels need an explicit id2label");
            }
            b.numLabels(numLabels);
        }
        Map<String, Integer> label2id = f.label2id();
        if (label2id != null) b.label2id(label2id);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage(), e);
        }
    }

    /** config.json text in Hugging Face's spelling; {@link #parse} reads it back to an equal config. */
    public String toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putArray("architectures").addAll(architectures.stream().map(JsonNodeFactory.instance::textNode).toList());
        root.put("model_type", modelType);
        root.put("vocab_size", vocabSize);
        root.put("hidden_size", hiddenSize);
        root.put("num_hidden_layers", numHiddenLayers);
        root.put("num_attention_heads", numAttentionHeads);
        root.put("intermediate_size", intermediateSize);
        root.put("hidden_act", hiddenAct.configName());
        root.put("max_position_embeddings", maxPositionEmbeddings);
        root.put("type_vocab_size", typeVocabSize);
        root.put("layer_norm_eps", layerNormEps);
        root.put("pad_token_id", padTokenId);
        root.put("position_embedding_type", positionEmbeddingType);
        ObjectNode ids = root.putObject("id2label");
        id2label.forEach((id, label) -> ids.put(Integer.toString(id), label));
        ObjectNode labels = root.putObject("label2id");
        label2id.forEach(labels::put);
        if (problemType != null) root.put("problem_type", problemType);
        return TextFiles.json(root);
    }

    /** Typed access to config.json fields; a wrong JSON type is an error naming the field and the file. */
    private record Fields(JsonNode root, String source) {
        private JsonNode get(String field) {
            JsonNode n = root.get(field);
            return n == null || n.isMissingNode() ? null : n;
        }

        private ModelFormatException wrongType(String field, String expected, JsonNode found) {
            return new ModelFormatException(source + ": field \"" + field + "\" must be " + expected + ", found "
                    + Json.kind(found));
        }

        int integer(String field, int defaultValue) {
            JsonNode n = get(field);
            if (n == null) return defaultValue;
            if (!n.isIntegralNumber() || !n.canConvertToInt()) throw wrongType(field, "an integer", n);
            return n.intValue();
        }

        int nullableInteger(String field, int valueForNullOrMissing) {
            JsonNode n = get(field);
            return n == null || n.isNull() ? valueForNullOrMissing : integer(field, valueForNullOrMissing);
        }

        double number(String field, double defaultValue) {
            JsonNode n = get(field);
            if (n == null) return defaultValue;
            if (!n.isNumber()) throw wrongType(field, "a number", n);
            return n.doubleValue();
        }

        String string(String field, String defaultValue) {
            JsonNode n = get(field);
            if (n == null || n.isNull() && defaultValue == null) return defaultValue;
            if (!n.isTextual()) throw wrongType(field, "a string", n);
            return n.textValue();
        }

        boolean bool(String field, boolean defaultValue) {
            JsonNode n = get(field);
            if (n == null || n.isNull()) return defaultValue;
            if (!n.isBoolean()) throw wrongType(field, "true or false", n);
            return n.booleanValue();
        }

        List<String> stringList(String field) {
            JsonNode n = get(field);
            if (n == null || n.isNull()) return List.of();
            if (!n.isArray()) throw wrongType(field, "an array of strings", n);
            List<String> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isTextual()) throw wrongType(field, "an array of strings", e);
                out.add(e.textValue());
            }
            return out;
        }

        Map<Integer, String> id2label() {
            JsonNode n = get("id2label");
            if (n == null || n.isNull()) return null;
            if (!n.isObject()) throw wrongType("id2label", "an object of id to label", n);
            Map<Integer, String> out = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new ModelFormatException(source + ": field \"id2label\": key \"" + e.getKey()
                            + "\" is not an integer id");
                }
                if (!e.getValue().isTextual()) throw wrongType("id2label\" value for id \"" + e.getKey(), "a string", e.getValue());
                if (out.put(id, e.getValue().textValue()) != null) {
                    throw new ModelFormatException(source + ": field \"id2label\": id " + id + " appears twice");
                }
            }
            return out;
        }

        Map<String, Integer> label2id() {
            JsonNode n = get("label2id");
            if (n == null || n.isNull()) return null;
            if (!n.isObject()) throw wrongType("label2id", "an object of label to id", n);
            Map<String, Integer> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                JsonNode v = e.getValue();
                if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                    throw wrongType("label2id\" value for label \"" + e.getKey(), "an integer", v);
                }
                out.put(e.getKey(), v.intValue());
            }
            return out;
        }
    }

    /** Builds configs in code (converter, random models, tests); starts from Hugging Face's defaults. */
    public static final class Builder {
        private String modelType = "bert";
        private int vocabSize = 30522;
        private int hiddenSize = 768;
        private int numHiddenLayers = 12;
        private int numAttentionHeads = 12;
        private int intermediateSize = 3072;
        private HiddenAct hiddenAct = HiddenAct.GELU;
        private int maxPositionEmbeddings = 512;
        private int typeVocabSize = 2;
        private double layerNormEps = 1e-12;
        private int padTokenId = 0;
        private String positionEmbeddingType = "absolute";
        private List<String> architectures = List.of();
        private Map<Integer, String> id2label = defaultLabels(2);
        private Map<String, Integer> label2id = null;
        private String problemType = null;

        private Builder() {}

        private Builder(BertConfig c) {
            modelType = c.modelType;
            vocabSize = c.vocabSize;
            hiddenSize = c.hiddenSize;
            numHiddenLayers = c.numHiddenLayers;
            numAttentionHeads = c.numAttentionHeads;
            intermediateSize = c.intermediateSize;
            hiddenAct = c.hiddenAct;
            maxPositionEmbeddings = c.maxPositionEmbeddings;
            typeVocabSize = c.typeVocabSize;
            layerNormEps = c.layerNormEps;
            padTokenId = c.padTokenId;
            positionEmbeddingType = c.positionEmbeddingType;
            architectures = c.architectures;
            id2label = c.id2label;
            label2id = c.label2id;
            problemType = c.problemType;
        }

        private static Map<Integer, String> defaultLabels(int n) {
            Map<Integer, String> labels = new TreeMap<>();
            for (int i = 0; i < n; i++) labels.put(i, "LABEL_" + i);
            return labels;
        }

        public Builder modelType(String v) { modelType = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder hiddenAct(HiddenAct v) { hiddenAct = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder typeVocabSize(int v) { typeVocabSize = v; return this; }
        public Builder layerNormEps(double v) { layerNormEps = v; return this; }
        public Builder padTokenId(int v) { padTokenId = v; return this; }
        public Builder positionEmbeddingType(String v) { positionEmbeddingType = v; return this; }
        public Builder architectures(List<String> v) { architectures = v; return this; }

        /** Sets id2label; label2id becomes its inverse unless set afterwards. */
        public Builder id2label(Map<Integer, String> v) { id2label = v; label2id = null; return this; }

        /** {@code n} labels named LABEL_0..LABEL_{n-1}, as PretrainedConfig's num_labels does. */
        public Builder numLabels(int n) { return id2label(defaultLabels(n)); }

        public Builder label2id(Map<String, Integer> v) { label2id = v; return this; }
        public Builder problemType(String v) { problemType = v; return this; }

        /** @throws IllegalArgumentException naming the config.json field that is invalid */
        public BertConfig build() {
            Map<String, Integer> inverse = label2id;
            if (inverse == null) {
                inverse = new LinkedHashMap<>();
                for (Map.Entry<Integer, String> e : new TreeMap<>(id2label).entrySet()) inverse.put(e.getValue(), e.getKey());
            }
            return new BertConfig(modelType, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads,
                    intermediateSize, hiddenAct, maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId,
                    positionEmbeddingType, architectures, id2label, inverse, problemType);
        }
    }
}
