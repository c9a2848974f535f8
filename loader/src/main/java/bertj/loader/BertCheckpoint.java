package bertj.loader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A checkpoint read as a BERT model: tensors are asked for by their canonical names, those of
 * {@code transformers.BertModel}'s state dict ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.0.attention.self.query.weight}, ..., {@code pooler.dense.weight}) and of the task heads
 * ({@code classifier.weight}, {@code qa_outputs.weight}), whatever spelling the file uses, and checked against
 * the shapes the config implies.
 *
 * <p>Spellings tried, in order: the canonical name; the old TensorFlow-era {@code LayerNorm.gamma} /
 * {@code LayerNorm.beta} for {@code LayerNorm.weight} / {@code .bias}; then both with the {@code bert.} prefix
 * that {@code BertFor...} task models put on the encoder (never on the head). candle's
 * {@code models/bert.rs} resolves names the same way.
 *
 * <p>Does not own the checkpoint: closing it is the caller's business.
 */
public final class BertCheckpoint {
    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final List<String> HEAD_NAMES =
            List.of("classifier.weight", "classifier.bias", "qa_outputs.weight", "qa_outputs.bias");

    /** Shapes in config.json's terms; dims are read from the config when needed. */
    private static final Map<String, List<String>> MODEL_SHAPES = Map.ofEntries(
            Map.entry("embeddings.word_embeddings.weight", List.of("vocab_size", "hidden_size")),
            Map.entry("embeddings.position_embeddings.weight", List.of("max_position_embeddings", "hidden_size")),
            Map.entry("embeddings.token_type_embeddings.weight", List.of("type_vocab_size", "hidden_size")),
            Map.entry("embeddings.LayerNorm.weight", List.of("hidden_size")),
            Map.entry("embeddings.LayerNorm.bias", List.of("hidden_size")),
            Map.entry("pooler.dense.weight", List.of("hidden_size", "hidden_size")),
            Map.entry("pooler.dense.bias", List.of("hidden_size")),
            Map.entry("classifier.weight", List.of("num_labels", "hidden_size")),
            Map.entry("classifier.bias", List.of("num_labels")),
            Map.entry("qa_outputs.weight", List.of("num_labels", "hidden_size")),
            Map.entry("qa_outputs.bias", List.of("num_labels")));

    private static final List<String> EMBEDDING_NAMES = List.of(
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias");

    /** Per-layer tensors, {@code encoder.layer.{i}.} + key, in BertLayer's order. */
    private static final Map<String, List<String>> LAYER_SHAPES = orderedLayerShapes();

    private static Map<String, List<String>> orderedLayerShapes() {
        var m = new LinkedHashMap<String, List<String>>();
        for (String p : List.of("query", "key", "value")) {
            m.put("attention.self." + p + ".weight", List.of("hidden_size", "hidden_size"));
            m.put("attention.self." + p + ".bias", List.of("hidden_size"));
        }
        m.put("attention.output.dense.weight", List.of("hidden_size", "hidden_size"));
        m.put("attention.output.dense.bias", List.of("hidden_size"));
        m.put("attention.output.LayerNorm.weight", List.of("hidden_size"));
        m.put("attention.output.LayerNorm.bias", List.of("hidden_size"));
        m.put("intermediate.dense.weight", List.of("intermediate_size", "hidden_size"));
        m.put("intermediate.dense.bias", List.of("intermediate_size"));
        m.put("output.dense.weight", List.of("hidden_size", "intermediate_size"));
        m.put("output.dense.bias", List.of("hidden_size"));
        m.put("output.LayerNorm.weight", List.of("hidden_size"));
        m.put("output.LayerNorm.bias", List.of("hidden_size"));
        return Collections.unmodifiableMap(m);
    }

    private final Checkpoint checkpoint;
    private final BertConfig config;
    private final String configSource;

    /** @param configSource how error messages name the config, e.g. its path */
    public BertCheckpoint(Checkpoint checkpoint, BertConfig config, String configSource) {
        this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
        this.config = Objects.requireNonNull(config, "config");
        this.configSource = Objects.requireNonNull(configSource, "configSource");
    }

    public BertCheckpoint(Checkpoint checkpoint, BertConfig config) {
        this(checkpoint, config, "config.json");
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public BertConfig config() {
        return config;
    }

    /**
     * Canonical names of {@code transformers.BertModel(config)}'s parameters, in its module order: embeddings,
     * each layer, then the pooler if {@code withPooler}.
     */
    public static List<String> bertModelNames(BertConfig config, boolean withPooler) {
        List<String> names = new ArrayList<>(EMBEDDING_NAMES);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            for (String key : LAYER_SHAPES.keySet()) names.add("encoder.layer." + i + "." + key);
        }
        if (withPooler) names.addAll(List.of("pooler.dense.weight", "pooler.dense.bias"));
        return names;
    }

    /** The spellings tried for {@code canonicalName}, in order. */
    public static List<String> candidates(String canonicalName) {
        Set<String> out = new LinkedHashSet<>();
        out.add(canonicalName);
        if (canonicalName.endsWith("LayerNorm.weight")) out.add(replaceSuffix(canonicalName, "weight", "gamma"));
        if (canonicalName.endsWith("LayerNorm.bias")) out.add(replaceSuffix(canonicalName, "bias", "beta"));
        if (isEncoderName(canonicalName)) {
            for (String n : List.copyOf(out)) out.add("bert." + n);
        }
        return List.copyOf(out);
    }

    private static boolean isEncoderName(String canonicalName) {
        return canonicalName.startsWith("embeddings.") || canonicalName.startsWith("encoder.")
                || canonicalName.startsWith("pooler.");
    }

    private static String replaceSuffix(String s, String suffix, String replacement) {
        return s.substring(0, s.length() - suffix.length()) + replacement;
    }

    /** The name under which the checkpoint stores {@code canonicalName}, if it has it. */
    public Optional<String> resolve(String canonicalName) {
        return candidates(canonicalName).stream().filter(checkpoint::contains).findFirst();
    }

    /**
     * The shape {@code canonicalName} must have under {@code config}, e.g. [intermediate_size, hidden_size] for
     * {@code encoder.layer.0.intermediate.dense.weight}. Heads ({@code classifier.*}, {@code qa_outputs.*})
     * have num_labels outputs.
     *
     * @throws IllegalArgumentException if it is not a parameter of a BERT model or head with this config
     */
    public static long[] expectedShape(BertConfig config, String canonicalName) {
        return symbolicShape(config, canonicalName).stream().mapToLong(f -> configValue(config, f)).toArray();
    }

    /** {@link #expectedShape(BertConfig, String)} with this checkpoint's config. */
    public long[] expectedShape(String canonicalName) {
        return expectedShape(config, canonicalName);
    }

    /** The tensor for {@code canonicalName}, checked against {@link #expectedShape}. */
    public Tensor require(String canonicalName) {
        return require(canonicalName, expectedShape(canonicalName));
    }

    /**
     * The tensor for {@code canonicalName}, which must be floating-point and have shape {@code expectedShape}.
     *
     * @throws ModelFormatException if it is missing (listing the spellings tried), not floating-point, or
     *         shaped otherwise (with expected and actual shapes and the config fields they come from)
     */
    public Tensor require(String canonicalName, long... expectedShape) {
        return optional(canonicalName, expectedShape).orElseThrow(() -> new ModelFormatException(
                checkpoint.source() + ": missing tensor \"" + canonicalName + "\" (tried "
                        + String.join(", ", candidates(canonicalName)) + "; the checkpoint has "
                        + describeNames() + ")"));
    }

    /** As {@link #require(String)}, but empty when the checkpoint does not have the tensor. */
    public Optional<Tensor> optional(String canonicalName) {
        return optional(canonicalName, expectedShape(canonicalName));
    }

    /** As {@link #require(String, long...)}, but empty when the checkpoint does not have the tensor. */
    public Optional<Tensor> optional(String canonicalName, long... expectedShape) {
        Optional<String> stored = resolve(canonicalName);
        if (stored.isEmpty()) return Optional.empty();
        Tensor t = checkpoint.tensor(stored.get());
        String where = "tensor \"" + t.name() + "\" in " + checkpoint.fileOf(t.name()).orElseThrow();
        if (t.dtype() == DType.I8 && isLinearWeight(canonicalName)) {
            int8Scale(canonicalName, expectedShape[0]); // an int8 weight comes with its scales
        } else if (!t.dtype().isFloatingPoint()) {
            throw new ModelFormatException(where + " has dtype " + t.dtype() + ", expected F32, F16 or BF16"
                    + (isLinearWeight(canonicalName) ? " (or I8 with a \"" + INT8_SCALE_SUFFIX + "\" tensor)" : ""));
        }
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new ModelFormatException(where + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(expectedShape) + explainShape(canonicalName, expectedShape));
        }
        return Optional.of(t);
    }

    /**
     * Suffix of the tensor that holds an int8 Linear weight's scales ({@code <prefix>.weight_scale}, F32 {@code
     * [out]}): row r of the weight stands for {@code q[r, :] * scale[r]}. {@code bertj quantize} writes them.
     */
    public static final String INT8_SCALE_SUFFIX = "_scale";

    /**
     * The scales of the int8 Linear weight {@code canonicalWeightName} ({@code [rows]} F32, finite).
     *
     * @throws ModelFormatException if the checkpoint lacks them or they are not F32 {@code [rows]}
     */
    public float[] int8Scale(String canonicalWeightName, long rows) {
        String name = canonicalWeightName + INT8_SCALE_SUFFIX;
        Optional<String> stored = resolve(name);
        if (stored.isEmpty()) {
            throw new ModelFormatException(checkpoint.source() + ": tensor \"" + canonicalWeightName
                    + "\" is I8 but has no scales (tried " + String.join(", ", candidates(name)) + ")");
        }
        Tensor t = checkpoint.tensor(stored.get());
        if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), new long[] {rows})) {
            throw new ModelFormatException("tensor \"" + t.name() + "\" in " + checkpoint.fileOf(t.name()).orElseThrow()
                    + " has dtype " + t.dtype() + " and shape " + Arrays.toString(t.shape()) + ", expected F32 [" + rows + "]");
        }
        float[] scales = t.toFloatArray();
        for (int i = 0; i < scales.length; i++) {
            if (!Float.isFinite(scales[i])) {
                throw new ModelFormatException("tensor \"" + t.name() + "\" holds " + scales[i] + " at " + i
                        + ": int8 scales must be finite");
            }
        }
        return scales;
    }

    /** Whether {@code canonicalName} is the weight of one of the encoder's Linears (never an embedding or a head). */
    public static boolean isLinearWeight(String canonicalName) {
        return canonicalName.equals("pooler.dense.weight")
                || canonicalName.startsWith("encoder.layer.") && canonicalName.endsWith("dense.weight")
                || canonicalName.matches("encoder\\.layer\\.\\d+\\.attention\\.self\\.(query|key|value)\\.weight");
    }

    public boolean hasPooler() {
        return resolve("pooler.dense.weight").isPresent();
    }

    /**
     * Exact parameter count of what this checkpoint provides for a BERT model: every BertModel tensor (all
     * required, shapes checked), the pooler if present, and the classification / question-answering head if
     * present. For a plain BertModel checkpoint this equals {@code config.parameterCount(true)}.
     */
    public long parameterCount() {
        long sum = 0;
        // Layer by layer, not over bertModelNames: a num_hidden_layers beyond the file fails at its first
        // missing tensor instead of sizing a list by the config's number.
        for (String name : EMBEDDING_NAMES) sum += require(name).elementCount();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            for (String key : LAYER_SHAPES.keySet()) sum += require("encoder.layer." + i + "." + key).elementCount();
        }
        if (hasPooler()) {
            sum += require("pooler.dense.weight").elementCount() + require("pooler.dense.bias").elementCount();
        }
        for (String head : HEAD_NAMES) sum += optional(head).map(Tensor::elementCount).orElse(0L);
        return sum;
    }

    private static List<String> symbolicShape(BertConfig config, String canonicalName) {
        List<String> shape = MODEL_SHAPES.get(canonicalName);
        if (shape != null) return shape;
        Matcher m = LAYER.matcher(canonicalName);
        if (m.matches() && LAYER_SHAPES.containsKey(m.group(2))) {
            long layer = Long.parseLong(m.group(1));
            if (layer < config.numHiddenLayers()) return LAYER_SHAPES.get(m.group(2));
            throw new IllegalArgumentException("\"" + canonicalName + "\": layer " + layer
                    + " does not exist (num_hidden_layers=" + config.numHiddenLayers() + ")");
        }
        throw new IllegalArgumentException("\"" + canonicalName + "\" is not a BERT parameter name bertj knows");
    }

    private static long configValue(BertConfig config, String field) {
        return switch (field) {
            case "vocab_size" -> config.vocabSize();
            case "hidden_size" -> config.hiddenSize();
            case "intermediate_size" -> config.intermediateSize();
            case "max_position_embeddings" -> config.maxPositionEmbeddings();
            case "type_vocab_size" -> config.typeVocabSize();
            case "num_labels" -> config.numLabels();
            default -> throw new AssertionError(field);
        };
    }

    /** " (from config.json: hidden_size=768, ...)" when the expected shape is the config's, else "". */
    private String explainShape(String canonicalName, long[] expectedShape) {
        List<String> fields;
        try {
            fields = symbolicShape(config, canonicalName);
        } catch (IllegalArgumentException e) {
            return "";
        }
        if (!Arrays.equals(expectedShape, expectedShape(canonicalName))) return "";
        return fields.stream().distinct().map(f -> f + "=" + configValue(config, f))
                .collect(Collectors.joining(", ", " (from " + configSource + ": ", ")"));
    }

    private String describeNames() {
        List<String> names = checkpoint.names();
        if (names.size() <= 4) return names.isEmpty() ? "no tensors" : String.join(", ", names);
        return names.size() + " tensors, e.g. " + String.join(", ", names.subList(0, 3));
    }
}
