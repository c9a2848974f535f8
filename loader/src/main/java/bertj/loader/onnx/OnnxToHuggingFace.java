package bertj.loader.onnx;

import bertj.loader.BertConfig;
import bertj.loader.DType;
import bertj.loader.HiddenAct;
import bertj.loader.ModelDirectory;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a BERT encoder exported to ONNX by PyTorch (as {@code all-minilm-l6-v2.onnx}) into a Hugging Face
 * model directory: {@code config.json} read off the tensor shapes and the graph, {@code model.safetensors}
 * with {@code transformers.BertModel}'s tensor names and layouts, and the tokenizer files.
 *
 * <p>The exporter keeps most parameters under their PyTorch names, but constant-folds each
 * {@code nn.Linear} weight into a {@code MatMul} operand {@code onnx::MatMul_N} of layout [in, out]. Such a
 * weight is named after the bias its output is added to ({@code encoder.layer.0.attention.self.query.bias}
 * names {@code ...query.weight}), or failing that after the MatMul node's module path
 * ({@code /encoder/layer.0/attention/self/query/MatMul}), and stored transposed to PyTorch's [out, in].
 */
public final class OnnxToHuggingFace {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A PyTorch parameter name: a dotted module path ending in weight or bias. */
    private static final Pattern PARAMETER = Pattern.compile("[A-Za-z_]\\w*(\\.\\w+)*\\.(weight|bias)");
    private static final Pattern MODULE_PATH = Pattern.compile("[A-Za-z_]\\w*(\\.\\w+)*");
    private static final Pattern LAYER = Pattern.compile("^(?:bert\\.)?encoder\\.layer\\.(\\d+)\\.");
    /** Dropout does nothing at inference and leaves no trace in the graph; config.json gets BertConfig's defaults. */
    private static final double DEFAULT_DROPOUT = 0.1;

    private OnnxToHuggingFace() {
    }

    /** One tensor of the Hugging Face checkpoint and the ONNX initializer it comes from. */
    public record Mapping(String name, OnnxTensor source, boolean transposed) {
        /** The shape in the checkpoint: the source's [in, out] as [out, in] when transposed. */
        public long[] shape() {
            long[] dims = source.dims();
            return transposed ? new long[] {dims[1], dims[0]} : dims.clone();
        }
    }

    /** What the graph says: the config and every checkpoint tensor (sorted by name) with its source. */
    public record Plan(BertConfig config, List<Mapping> tensors) {
    }

    /**
     * sentence-transformers modules to describe beside the model (modules.json, the pooling config and
     * sentence_bert_config.json); the ONNX graph itself ends at the encoder.
     */
    public record SentenceTransformers(String pooling, boolean normalize, int maxSeqLength) {
        public SentenceTransformers {
            if (!List.of("cls_token", "mean_tokens", "max_tokens").contains(pooling)) {
                throw new IllegalArgumentException("pooling must be cls_token, mean_tokens or max_tokens, got " + pooling);
            }
        }
    }

    /**
     * Converts {@code onnxFile} (and, if not null, the WordPiece {@code tokenizerJson} that goes with it) into
     * a model directory at {@code outputDir}, then opens the result with the loader to check it.
     * Not atomic: write into a fresh directory and move it into place.
     *
     * @param sentenceTransformers the sentence-transformers pipeline to describe, or null for none
     * @return the inferred config
     * @throws OnnxFormatException if the file is corrupt or not a BERT encoder the converter understands
     */
    public static BertConfig convert(Path onnxFile, Path tokenizerJson, Path outputDir,
                                     SentenceTransformers sentenceTransformers) throws IOException {
        TokenizerFiles tokenizer = tokenizerJson == null ? null : TokenizerFiles.read(tokenizerJson);
        Files.createDirectories(outputDir);
        BertConfig config;
        try (Arena arena = Arena.ofConfined()) {
            OnnxModel model = OnnxReader.read(onnxFile, arena);
            Plan plan = plan(model.graph(), onnxFile.toString(), tokenizer == null ? 0 : tokenizer.padTokenId());
            config = plan.config();
            List<Tensor> tensors = new ArrayList<>();
            for (Mapping m : plan.tensors()) tensors.add(toTensor(m, arena));
            SafetensorsWriter.write(outputDir.resolve("model.safetensors"), tensors,
                    Map.of("format", "pt", "source", onnxFile.getFileName().toString()));
        }
        writeConfig(config, outputDir.resolve(ModelDirectory.CONFIG));
        if (tokenizer != null) tokenizer.write(tokenizerJson, outputDir, config.maxPositionEmbeddings());
        if (sentenceTransformers != null) writeSentenceTransformers(sentenceTransformers, config, outputDir);
        try (ModelDirectory dir = ModelDirectory.open(outputDir)) {
            dir.bertCheckpoint().parameterCount(); // every tensor present, shaped as the config says
            dir.pooling();
        }
        return config;
    }

    /**
     * Reads the checkpoint's tensors and config off the graph, without copying anything.
     *
     * @param source names the file in errors
     * @param padTokenId the tokenizer's [PAD] id (the graph does not show it)
     */
    public static Plan plan(OnnxGraph graph, String source, int padTokenId) {
        requireFloatLayers(graph, source);
        Map<String, Mapping> tensors = new TreeMap<>();
        Map<String, String> linearOutputs = new HashMap<>(); // module path -> value after its bias
        Set<String> consumed = new HashSet<>(); // initializers mapped as a linear layer's weight or bias
        for (OnnxNode node : graph.nodes()) {
            boolean gemm = node.opType().equals("Gemm");
            if (!gemm && !node.opType().equals("MatMul") || node.inputs().size() < 2 || node.outputs().isEmpty()) continue;
            OnnxTensor w = graph.initializers().get(node.inputs().get(1));
            if (w == null || w.dims().length != 2) continue; // activations times activations (attention)
            if (gemm) requireLinearGemm(node, source);
            boolean transposed = !gemm || intAttribute(node, "transB", 0) == 0; // MatMul's B is [in, out]
            Bias bias = bias(graph, node, gemm, w.dims()[transposed ? 1 : 0]);
            String module = moduleName(w, bias, node, source);
            put(tensors, new Mapping(module + ".weight", w, transposed), source);
            consumed.add(w.name());
            if (bias != null) {
                put(tensors, new Mapping(module + ".bias", bias.tensor(), false), source);
                consumed.add(bias.tensor().name());
            }
            linearOutputs.put(module, bias == null ? node.outputs().getFirst() : bias.output());
        }
        for (OnnxTensor t : graph.initializers().values()) {
            // Everything else under a parameter name (embeddings, LayerNorm); buffers such as
            // embeddings.position_ids are integers, constants have onnx:: names.
            if (!consumed.contains(t.name()) && PARAMETER.matcher(t.name()).matches() && isFloat(t)) {
                put(tensors, new Mapping(t.name(), t, false), source);
            }
        }
        BertConfig config = new ConfigReader(graph, source, tensors, linearOutputs).read(padTokenId);
        return new Plan(config, List.copyOf(tensors.values()));
    }

    /** Operators that hold a layer's weights in a form with no float tensor to map: quantized or fused by ONNX Runtime. */
    private static final Map<String, String> UNMAPPABLE = Map.ofEntries(
            Map.entry("QuantizeLinear", "quantized"), Map.entry("DequantizeLinear", "quantized"),
            Map.entry("DynamicQuantizeLinear", "quantized"), Map.entry("MatMulInteger", "quantized"),
            Map.entry("QLinearMatMul", "quantized"), Map.entry("DynamicQuantizeMatMul", "quantized"),
            Map.entry("MatMulIntegerToFloat", "quantized"), Map.entry("QGemm", "quantized"),
            Map.entry("QAttention", "quantized"), Map.entry("QEmbedLayerNormalization", "quantized"),
            Map.entry("MatMulNBits", "quantized"), Map.entry("Attention", "fused"),
            Map.entry("MultiHeadAttention", "fused"), Map.entry("PackedAttention", "fused"),
            Map.entry("EmbedLayerNormalization", "fused"));

    /** Fails on the first node whose weights are not plain float initializers. */
    private static void requireFloatLayers(OnnxGraph graph, String source) {
        for (OnnxNode node : graph.nodes()) {
            String kind = UNMAPPABLE.get(node.opType());
            if (kind == null) continue;
            throw new OnnxFormatException(source + ": node '" + node.name() + "' (" + node.opType() + ") is "
                    + (kind.equals("quantized")
                        ? "part of a quantized graph; the converter maps float weights only: convert the unquantized export"
                        : "an ONNX Runtime fusion that packs several layers' weights; convert an export without graph optimisation"));
        }
    }

    /** The checkpoint tensor for a mapping: the source bytes themselves, or a transposed copy in {@code arena}. */
    public static Tensor toTensor(Mapping m, Arena arena) {
        OnnxTensor src = m.source();
        DType dtype = switch (src.dataType()) {
            case FLOAT -> DType.F32;
            case FLOAT16 -> DType.F16;
            case BFLOAT16 -> DType.BF16;
            default -> throw new OnnxFormatException("tensor '" + src.name() + "' (" + m.name() + ") is "
                    + src.dataType() + "; the converter takes FLOAT, FLOAT16 or BFLOAT16 weights");
        };
        if (!m.transposed()) return Tensor.of(m.name(), dtype, src.dims(), src.data());
        long rows = src.dims()[0], cols = src.dims()[1];
        MemorySegment in = src.data();
        MemorySegment out = arena.allocate(in.byteSize(), 64);
        for (long r = 0; r < rows; r++) {
            for (long c = 0; c < cols; c++) {
                // out[c][r] = in[r][c], moving the element's bits unchanged
                if (dtype == DType.F32) {
                    out.setAtIndex(OnnxTensor.I32, c * rows + r, in.getAtIndex(OnnxTensor.I32, r * cols + c));
                } else {
                    out.setAtIndex(OnnxTensor.I16, c * rows + r, in.getAtIndex(OnnxTensor.I16, r * cols + c));
                }
            }
        }
        return Tensor.of(m.name(), dtype, m.shape(), out);
    }

    private static boolean isFloat(OnnxTensor t) {
        return t.dataType() == OnnxDataType.FLOAT || t.dataType() == OnnxDataType.FLOAT16
                || t.dataType() == OnnxDataType.BFLOAT16;
    }

    private static void put(Map<String, Mapping> tensors, Mapping m, String source) {
        Mapping previous = tensors.putIfAbsent(m.name(), m);
        if (previous != null && previous.source() != m.source()) {
            throw new OnnxFormatException(source + ": two initializers map to '" + m.name() + "': '"
                    + previous.source().name() + "' and '" + m.source().name() + "'");
        }
    }

    /** The bias initializer of a linear layer and the value that holds {@code x W + b}. */
    private record Bias(OnnxTensor tensor, String output) {
    }

    /** The [out] vector added to the layer's product: Gemm's C, or an Add right after the MatMul. */
    private static Bias bias(OnnxGraph graph, OnnxNode node, boolean gemm, long out) {
        if (gemm) {
            OnnxTensor c = node.inputs().size() > 2 ? graph.initializers().get(node.inputs().get(2)) : null;
            return isBias(c, out) ? new Bias(c, node.outputs().getFirst()) : null;
        }
        String product = node.outputs().getFirst();
        for (OnnxNode add : graph.consumers(product)) {
            if (!add.opType().equals("Add") || add.inputs().size() != 2 || add.outputs().isEmpty()) continue;
            String other = add.inputs().get(0).equals(product) ? add.inputs().get(1) : add.inputs().get(0);
            OnnxTensor b = graph.initializers().get(other);
            if (isBias(b, out)) return new Bias(b, add.outputs().getFirst());
        }
        return null;
    }

    private static boolean isBias(OnnxTensor t, long out) {
        return t != null && t.dims().length == 1 && t.dims()[0] == out && isFloat(t);
    }

    /** The nn.Linear's module path, e.g. {@code encoder.layer.0.attention.self.query}. */
    private static String moduleName(OnnxTensor weight, Bias bias, OnnxNode node, String source) {
        String name = weight.name();
        if (PARAMETER.matcher(name).matches() && name.endsWith(".weight")) return strip(name, ".weight");
        String biasName = bias == null ? "" : bias.tensor().name();
        if (PARAMETER.matcher(biasName).matches() && biasName.endsWith(".bias")) return strip(biasName, ".bias");
        // torch.onnx names nodes after the module path: /encoder/layer.0/attention/self/query/MatMul
        String path = node.name().replaceFirst("^/", "").replaceFirst("/(MatMul|Gemm)(_\\d+)?$", "").replace('/', '.');
        if (!path.equals(node.name()) && MODULE_PATH.matcher(path).matches()) return path;
        throw new OnnxFormatException(source + ": cannot tell which layer the weight '" + name + "' of "
                + node.opType() + " node '" + node.name() + "' belongs to: its output is not added to a named bias"
                + " and the node name is not a module path");
    }

    private static String strip(String s, String suffix) {
        return s.substring(0, s.length() - suffix.length());
    }

    private static void requireLinearGemm(OnnxNode node, String source) {
        if (intAttribute(node, "transA", 0) != 0 || floatAttribute(node, "alpha", 1f) != 1f
                || floatAttribute(node, "beta", 1f) != 1f) {
            throw new OnnxFormatException(source + ": Gemm node '" + node.name() + "' has transA, alpha or beta"
                    + " set; only y = x W^T + b (an nn.Linear) is supported");
        }
    }

    private static long intAttribute(OnnxNode node, String name, long defaultValue) {
        OnnxAttribute a = node.attribute(name);
        return a == null ? defaultValue : a.i();
    }

    private static float floatAttribute(OnnxNode node, String name, float defaultValue) {
        OnnxAttribute a = node.attribute(name);
        return a == null ? defaultValue : a.f();
    }

    /** Reads config.json's fields off the tensor shapes and the graph's operators. */
    private record ConfigReader(OnnxGraph graph, String source, Map<String, Mapping> tensors,
                                Map<String, String> linearOutputs) {

        BertConfig read(int padTokenId) {
            String p = tensors.containsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
            long[] words = shape(p + "embeddings.word_embeddings.weight");
            int hidden = toInt(words[1]);
            int layers = layerCount();
            String layer0 = p + "encoder.layer.0.";
            int intermediate = toInt(shape(layer0 + "intermediate.dense.weight")[0]);
            BertConfig.Builder b = BertConfig.builder()
                    .vocabSize(toInt(words[0]))
                    .hiddenSize(hidden)
                    .numHiddenLayers(layers)
                    .numAttentionHeads(heads(output(layer0 + "attention.self.query"), hidden))
                    .intermediateSize(intermediate)
                    .hiddenAct(activation(output(layer0 + "intermediate.dense")))
                    .maxPositionEmbeddings(toInt(shape(p + "embeddings.position_embeddings.weight")[0]))
                    .typeVocabSize(toInt(shape(p + "embeddings.token_type_embeddings.weight")[0]))
                    .layerNormEps(layerNormEps())
                    .padTokenId(padTokenId);
            boolean pooler = tensors.containsKey(p + "pooler.dense.weight");
            if (tensors.containsKey("qa_outputs.weight")) {
                b.architectures(List.of("BertForQuestionAnswering")).numLabels(toInt(shape("qa_outputs.weight")[0]));
            } else if (tensors.containsKey("classifier.weight")) {
                // transformers builds BertForSequenceClassification with the pooler and
                // BertForTokenClassification without it
                b.architectures(List.of(pooler ? "BertForSequenceClassification" : "BertForTokenClassification"))
                        .numLabels(toInt(shape("classifier.weight")[0]));
            } else {
                b.architectures(List.of("BertModel"));
            }
            try {
                return b.build();
            } catch (IllegalArgumentException e) {
                throw new OnnxFormatException(source + ": inferred config is invalid: " + e.getMessage());
            }
        }

        /** The shape of a weight matrix: every tensor this reads sizes from has two dimensions. */
        private long[] shape(String name) {
            Mapping m = tensors.get(name);
            if (m == null) {
                throw new OnnxFormatException(source + ": no tensor for '" + name + "' in the graph; is it a BERT"
                        + " encoder exported from transformers? (found " + summarize(tensors.keySet()) + ")");
            }
            long[] shape = m.shape();
            if (shape.length != 2) {
                throw new OnnxFormatException(source + ": tensor '" + m.source().name() + "' for '" + name + "' has shape "
                        + Arrays.toString(shape) + ", expected two dimensions");
            }
            return shape;
        }

        private String output(String module) {
            String v = linearOutputs.get(module);
            if (v == null) throw new OnnxFormatException(source + ": no MatMul/Gemm node computes '" + module + "'");
            return v;
        }

        private int toInt(long v) {
            if (v <= 0 || v > Integer.MAX_VALUE) throw new OnnxFormatException(source + ": dimension " + v + " out of range");
            return (int) v;
        }

        /** Layers are encoder.layer.0 .. encoder.layer.{n-1}, with no gap. */
        private int layerCount() {
            Set<Integer> seen = new TreeSet<>();
            for (String name : tensors.keySet()) {
                Matcher m = LAYER.matcher(name);
                if (!m.find()) continue;
                try {
                    seen.add(Integer.parseInt(m.group(1)));
                } catch (NumberFormatException e) {
                    throw new OnnxFormatException(source + ": tensor '" + name + "' has a layer number too large: " + m.group(1));
                }
            }
            int n = seen.size();
            if (n == 0 || !seen.contains(0) || !seen.contains(n - 1)) {
                throw new OnnxFormatException(source + ": encoder layers must be numbered 0..n-1, found " + seen);
            }
            return n;
        }

        /**
         * The head count, from the Reshape that splits the query into [batch, seq, heads, head_size], checked
         * against the attention scale 1/sqrt(head_size) where the graph shows one.
         */
        private int heads(String query, int hidden) {
            Integer fromReshape = headsFromReshape(query, hidden);
            Integer headSize = headSizeFromScale();
            Integer fromScale = headSize != null && headSize > 0 && hidden % headSize == 0 ? hidden / headSize : null;
            if (fromReshape != null && fromScale != null && !fromReshape.equals(fromScale)) {
                throw new OnnxFormatException(source + ": the query Reshape says " + fromReshape
                        + " attention heads but the score scale says " + fromScale);
            }
            Integer heads = fromReshape != null ? fromReshape : fromScale;
            if (heads == null) {
                throw new OnnxFormatException(source + ": cannot infer num_attention_heads: no Reshape of the query"
                        + " to [batch, seq, heads, head_size] and no constant 1/sqrt(head_size) attention scale");
            }
            return heads;
        }

        private Integer headsFromReshape(String query, int hidden) {
            for (OnnxNode node : reachable(query, 3, false)) {
                if (!node.opType().equals("Reshape") || node.inputs().size() < 2) continue;
                List<Long> shape = constantShape(node.inputs().get(1));
                if (shape == null || shape.size() != 4) continue;
                Long heads = shape.get(2), size = shape.get(3);
                if (heads != null && size != null && heads > 0 && size > 0 && heads * size == hidden) return heads.intValue();
                if (heads != null && heads > 0 && size != null && size == -1 && hidden % heads == 0) return heads.intValue();
                if (size != null && size > 0 && heads != null && heads == -1 && hidden % size == 0) return (int) (hidden / size);
            }
            return null;
        }

        /**
         * A Reshape's target shape with the elements known at export time; null elements are computed from
         * the input's shape ([batch, seq] via Shape/Gather/Unsqueeze), null as a whole when not a Concat.
         */
        private List<Long> constantShape(String value) {
            OnnxTensor c = graph.constant(value);
            if (c != null) return Arrays.stream(c.toLongArray()).boxed().toList();
            OnnxNode concat = graph.producer(value);
            if (concat == null || !concat.opType().equals("Concat")) return null;
            List<Long> out = new ArrayList<>();
            for (String in : concat.inputs()) {
                OnnxTensor part = graph.constant(in);
                if (part != null) for (long v : part.toLongArray()) out.add(v);
                else out.add(null);
            }
            return out;
        }

        /** head_size from the first attention's score scaling: Div by sqrt(d) or Mul by 1/sqrt(d). */
        private Integer headSizeFromScale() {
            OnnxNode softmax = graph.nodes().stream().filter(n -> n.opType().equals("Softmax")).findFirst().orElse(null);
            if (softmax == null || softmax.inputs().isEmpty()) return null;
            for (OnnxNode node : reachable(softmax.inputs().getFirst(), 3, true)) {
                boolean div = node.opType().equals("Div");
                if (!div && !node.opType().equals("Mul") || div && node.inputs().size() < 2) continue;
                for (String in : div ? node.inputs().subList(1, 2) : node.inputs()) {
                    OnnxTensor c = graph.constant(in);
                    if (c == null || c.elementCount() != 1 || c.dataType() != OnnxDataType.FLOAT) continue;
                    double scale = c.scalar();
                    double d = div ? scale * scale : 1 / (scale * scale);
                    long rounded = Math.round(d);
                    if (rounded > 0 && Math.abs(d - rounded) < 1e-3 * rounded) return (int) rounded;
                }
            }
            return null;
        }

        /**
         * layer_norm_eps: the epsilon of LayerNormalization nodes, or of the decomposed form
         * {@code (x - mean) / Sqrt(ReduceMean(d^2) + eps)}. All LayerNorms must agree.
         */
        private double layerNormEps() {
            Set<Float> found = new LinkedHashSet<>();
            for (OnnxNode node : graph.nodes()) {
                if (node.opType().equals("LayerNormalization")) {
                    OnnxAttribute eps = node.attribute("epsilon");
                    found.add(eps == null ? 1e-5f : eps.f()); // the ONNX default
                } else if (node.opType().equals("Sqrt") && !node.inputs().isEmpty()) {
                    OnnxNode add = graph.producer(node.inputs().getFirst());
                    if (add == null || !add.opType().equals("Add")) continue;
                    for (String in : add.inputs()) {
                        OnnxTensor c = graph.constant(in);
                        if (c != null && c.elementCount() == 1 && c.dataType() == OnnxDataType.FLOAT) found.add((float) c.scalar());
                    }
                }
            }
            if (found.size() != 1) {
                throw new OnnxFormatException(source + ": cannot infer layer_norm_eps: "
                        + (found.isEmpty() ? "no LayerNormalization in the graph" : "LayerNorms disagree: " + found));
            }
            // The graph holds eps as a float; config.json wants the decimal it was written as (1e-12, not 9.99e-13).
            return Double.parseDouble(Float.toString(found.iterator().next()));
        }

        /** hidden_act, from the operators between the intermediate dense layer and the output dense layer. */
        private HiddenAct activation(String intermediate) {
            Set<String> ops = new TreeSet<>();
            for (OnnxNode node : reachable(intermediate, 12, false)) {
                ops.add(node.opType());
                if (node.opType().equals("Gelu")) {
                    OnnxAttribute approximate = node.attribute("approximate");
                    return approximate != null && "tanh".equals(approximate.s()) ? HiddenAct.GELU_TANH : HiddenAct.GELU;
                }
            }
            if (ops.contains("Erf") || ops.contains("BiasGelu")) return HiddenAct.GELU;
            if (ops.contains("Tanh") || ops.contains("FastGelu")) return HiddenAct.GELU_TANH;
            if (ops.contains("Relu")) return HiddenAct.RELU;
            throw new OnnxFormatException(source + ": cannot infer hidden_act from the operators after the"
                    + " intermediate dense layer: " + ops);
        }

        /**
         * Nodes within {@code depth} steps of {@code value}, following consumers (or producers when
         * {@code backwards}), in breadth-first order; a walk forward stops at the next MatMul/Gemm.
         */
        private List<OnnxNode> reachable(String value, int depth, boolean backwards) {
            List<OnnxNode> out = new ArrayList<>();
            Set<OnnxNode> seen = new HashSet<>();
            ArrayDeque<String> frontier = new ArrayDeque<>(List.of(value));
            for (int step = 0; step < depth && !frontier.isEmpty(); step++) {
                ArrayDeque<String> next = new ArrayDeque<>();
                for (String v : frontier) {
                    List<OnnxNode> nodes = backwards
                            ? (graph.producer(v) == null ? List.of() : List.of(graph.producer(v)))
                            : graph.consumers(v);
                    for (OnnxNode n : nodes) {
                        if (!seen.add(n)) continue;
                        out.add(n);
                        boolean linear = n.opType().equals("MatMul") || n.opType().equals("Gemm");
                        if (backwards) next.addAll(n.inputs());
                        else if (!linear) next.addAll(n.outputs());
                    }
                }
                frontier = next;
            }
            return out;
        }

        private static String summarize(Set<String> names) {
            List<String> list = List.copyOf(names);
            return list.size() <= 8 ? list.toString() : list.subList(0, 8) + " and " + (list.size() - 8) + " more";
        }
    }

    /** config.json: the loader's spelling of the config plus the training-only fields transformers writes. */
    private static void writeConfig(BertConfig config, Path file) throws IOException {
        ObjectNode json = (ObjectNode) JSON.readTree(config.toJson());
        json.put("hidden_dropout_prob", DEFAULT_DROPOUT);
        json.put("attention_probs_dropout_prob", DEFAULT_DROPOUT);
        json.put("initializer_range", 0.02);
        TextFiles.writeJson(file, json);
    }

    /** modules.json, the pooling config and sentence_bert_config.json, laid out as sentence-transformers saves them. */
    private static void writeSentenceTransformers(SentenceTransformers st, BertConfig config, Path dir) throws IOException {
        var modules = JSON.createArrayNode();
        modules.addObject().put("idx", 0).put("name", "0").put("path", "").put("type", "sentence_transformers.models.Transformer");
        modules.addObject().put("idx", 1).put("name", "1").put("path", "1_Pooling").put("type", "sentence_transformers.models.Pooling");
        if (st.normalize()) {
            modules.addObject().put("idx", 2).put("name", "2").put("path", "2_Normalize").put("type", "sentence_transformers.models.Normalize");
            Files.createDirectories(dir.resolve("2_Normalize")); // Normalize has no parameters; its folder is empty
        }
        TextFiles.writeJson(dir.resolve("modules.json"), modules);

        ObjectNode pooling = JSON.createObjectNode().put("word_embedding_dimension", config.hiddenSize());
        for (String mode : List.of("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens")) {
            pooling.put("pooling_mode_" + mode, mode.equals(st.pooling()));
        }
        Files.createDirectories(dir.resolve("1_Pooling"));
        TextFiles.writeJson(dir.resolve("1_Pooling").resolve("config.json"), pooling);

        ObjectNode sbert = JSON.createObjectNode().put("max_seq_length", st.maxSeqLength()).put("do_lower_case", false);
        TextFiles.writeJson(dir.resolve("sentence_bert_config.json"), sbert);
    }
}
