package bertj.loader.onnx;

import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.ByteSink;
import bertj.loader.DType;
import bertj.loader.ModelDirectory;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxModelWriter.Attribute;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * Writes a model directory's {@code transformers.BertModel} as a standard opset-17 ONNX graph, the one
 * {@code torch.onnx.export(model, (input_ids, attention_mask, token_type_ids), dynamic_axes=...)} produces:
 * Gather embeddings, {@code LayerNormalization}, MatMul + Add with [in, out] weights, Reshape/Transpose to
 * heads, {@code MatMul(Q, K^T) / sqrt(d) + (1 - mask) * float32.min}, Softmax, GELU as Erf (or the tanh
 * form, or Relu) and the Tanh pooler on token 0. Task heads (classifier, QA) are not exported. Two
 * simplifications that change no value: constants are initializers rather than Constant nodes, and the head
 * reshapes use the constant shapes [0, 0, heads, head_size] / [0, 0, hidden] (0 = keep that dimension) that
 * ONNX Runtime's own graph optimizer turns torch's Shape/Gather/Concat chains into. On the default model this
 * graph gives the same outputs in ONNX Runtime as the real torch export it was converted from.
 *
 * <p>Inputs {@code input_ids}, {@code attention_mask}, {@code token_type_ids}: int64 [batch, sequence];
 * outputs {@code last_hidden_state} [batch, sequence, hidden] and, when the checkpoint has a pooler,
 * {@code pooler_output} [batch, hidden]. Weights are written as F32 {@code raw_data} initializers (F16/BF16
 * checkpoints are widened), streamed to the file one tensor at a time.
 */
public final class OnnxExporter {
    public static final int OPSET = 17;

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Columns transposed per pass: the [rows, 16] block of floats stays in cache while it is written out. */
    private static final int TRANSPOSE_BLOCK = 16;

    private OnnxExporter() {
    }

    /**
     * Exports the model in {@code modelDir} (a Hugging Face directory bertj can load) to {@code outOnnx},
     * replacing the file if it exists; its directory must exist.
     *
     * @throws bertj.loader.ModelFormatException if the model directory is missing, incomplete or inconsistent
     * @throws IllegalArgumentException if the graph would exceed protobuf's 2 GiB limit
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void export(Path modelDir, Path outOnnx) {
        try (ModelDirectory dir = ModelDirectory.open(modelDir)) {
            OnnxModelWriter graph = build(dir.bertCheckpoint()); // finds every tensor (or fails) before touching the disk
            Path parent = outOnnx.toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("cannot write " + outOnnx + ": the directory " + parent + " does not exist");
            }
            graph.write(outOnnx);
        }
    }

    /** The graph, with initializers that read the checkpoint's tensors when written (keep it open until then). */
    static OnnxModelWriter build(BertCheckpoint checkpoint) {
        return new GraphBuilder(checkpoint).build();
    }

    /** Builds the graph node by node, naming nodes and values the way torch.onnx.export does. */
    private static final class GraphBuilder {
        private final BertCheckpoint checkpoint;
        private final BertConfig config;
        private final OnnxModelWriter g;
        private final Set<String> definedConstants = new HashSet<>();

        GraphBuilder(BertCheckpoint checkpoint) {
            this.checkpoint = checkpoint;
            this.config = checkpoint.config();
            String version = OnnxExporter.class.getPackage().getImplementationVersion();
            this.g = new OnnxModelWriter("main_graph", OPSET, version == null ? "dev" : version);
        }

        OnnxModelWriter build() {
            int hidden = config.hiddenSize();
            g.input("input_ids", OnnxModelWriter.INT64, "batch", "sequence");
            g.input("attention_mask", OnnxModelWriter.INT64, "batch", "sequence");
            g.input("token_type_ids", OnnxModelWriter.INT64, "batch", "sequence");
            constants();

            String extendedMask = extendedAttentionMask();
            String hiddenState = embeddings(config.numHiddenLayers() == 0 ? "last_hidden_state" : null);
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                hiddenState = layer(i, hiddenState, extendedMask, i == config.numHiddenLayers() - 1 ? "last_hidden_state" : null);
            }
            g.output("last_hidden_state", OnnxModelWriter.FLOAT, "batch", "sequence", hidden);
            if (checkpoint.hasPooler()) {
                pooler(hiddenState);
                g.output("pooler_output", OnnxModelWriter.FLOAT, "batch", hidden);
            }
            return g;
        }

        /**
         * Constants every graph uses (torch emits Constant nodes; initializers are equivalent). Those only some
         * graphs need are defined on first use, so that ONNX Runtime finds no unused initializer.
         */
        private void constants() {
            long[] scalar = {};
            g.floatInitializer("const.one", scalar, 1f);
            g.floatInitializer("const.float32_min", scalar, -Float.MAX_VALUE);
            g.floatInitializer("const.sqrt_head_size", scalar, (float) Math.sqrt(config.headSize()));
            g.longInitializer("const.axes_0", new long[] {1}, 0);
            g.longInitializer("const.axes_1", new long[] {1}, 1);
            g.longInitializer("const.axes_2", new long[] {1}, 2);
            g.longInitializer("const.index_1", scalar, 1);
            g.longInitializer("const.step_1", new long[] {1}, 1);
            // Reshape's 0 copies that dimension from the input: [batch, seq, hidden] <-> [batch, seq, heads, head_size]
            g.longInitializer("const.heads_shape", new long[] {4}, 0, 0, config.numAttentionHeads(), config.headSize());
            g.longInitializer("const.merged_shape", new long[] {3}, 0, 0, config.hiddenSize());
            int maxPositions = config.maxPositionEmbeddings();
            g.longInitializer("embeddings.position_ids", new long[] {1, maxPositions}, LongStream.range(0, maxPositions).toArray());
        }

        /** {@code get_extended_attention_mask}: [batch, 1, 1, seq], 0 where attended and float32 min where masked. */
        private String extendedAttentionMask() {
            String m = op("Unsqueeze", "/Unsqueeze", List.of("attention_mask", "const.axes_1"));
            m = op("Unsqueeze", "/Unsqueeze_1", List.of(m, "const.axes_2"));
            m = op("Cast", "/Cast", List.of(m), Attribute.ofInt("to", OnnxModelWriter.FLOAT));
            m = op("Sub", "/Sub", List.of("const.one", m));
            return op("Mul", "/Mul", List.of(m, "const.float32_min"));
        }

        /** word + token type + position embeddings (positions 0..seq-1, sliced from position_ids), then LayerNorm. */
        private String embeddings(String outputName) {
            int hidden = config.hiddenSize();
            String shape = op("Shape", "/embeddings/Shape", List.of("input_ids"));
            String seqLen = op("Gather", "/embeddings/Gather", List.of(shape, "const.index_1"), Attribute.ofInt("axis", 0));
            String end = op("Unsqueeze", "/embeddings/Unsqueeze", List.of(seqLen, "const.axes_0"));
            String positionIds = op("Slice", "/embeddings/Slice",
                    List.of("embeddings.position_ids", "const.axes_0", end, "const.axes_1", "const.step_1"));

            String word = weight("embeddings.word_embeddings.weight", config.vocabSize(), hidden);
            String type = weight("embeddings.token_type_embeddings.weight", config.typeVocabSize(), hidden);
            String position = weight("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), hidden);
            String x = op("Gather", "/embeddings/word_embeddings/Gather", List.of(word, "input_ids"));
            String t = op("Gather", "/embeddings/token_type_embeddings/Gather", List.of(type, "token_type_ids"));
            x = op("Add", "/embeddings/Add", List.of(x, t));
            String p = op("Gather", "/embeddings/position_embeddings/Gather", List.of(position, positionIds));
            x = op("Add", "/embeddings/Add_1", List.of(x, p));
            return layerNorm("/embeddings/LayerNorm", "embeddings.LayerNorm", x, outputName);
        }

        /** {@code BertLayer}: self-attention, output dense + residual + LayerNorm, feed-forward + residual + LayerNorm. */
        private String layer(int i, String x, String extendedMask, String outputName) {
            int hidden = config.hiddenSize();
            String path = "/encoder/layer." + i;
            String name = "encoder.layer." + i;
            String self = path + "/attention/self";

            String q = linear(self + "/query", name + ".attention.self.query", x, hidden, hidden);
            String k = linear(self + "/key", name + ".attention.self.key", x, hidden, hidden);
            String v = linear(self + "/value", name + ".attention.self.value", x, hidden, hidden);
            // [batch, seq, hidden] -> [batch, heads, seq, head_size]; K goes straight to [batch, heads, head_size, seq]
            k = op("Reshape", self + "/Reshape", List.of(k, "const.heads_shape"));
            v = op("Reshape", self + "/Reshape_1", List.of(v, "const.heads_shape"));
            v = op("Transpose", self + "/Transpose", List.of(v), Attribute.ofInts("perm", 0, 2, 1, 3));
            q = op("Reshape", self + "/Reshape_2", List.of(q, "const.heads_shape"));
            q = op("Transpose", self + "/Transpose_1", List.of(q), Attribute.ofInts("perm", 0, 2, 1, 3));
            k = op("Transpose", self + "/Transpose_2", List.of(k), Attribute.ofInts("perm", 0, 2, 3, 1));

            String scores = op("MatMul", self + "/MatMul", List.of(q, k));
            scores = op("Div", self + "/Div", List.of(scores, "const.sqrt_head_size"));
            scores = op("Add", self + "/Add", List.of(scores, extendedMask));
            String probs = op("Softmax", self + "/Softmax", List.of(scores), Attribute.ofInt("axis", -1));
            String context = op("MatMul", self + "/MatMul_1", List.of(probs, v));
            context = op("Transpose", self + "/Transpose_3", List.of(context), Attribute.ofInts("perm", 0, 2, 1, 3));
            context = op("Reshape", self + "/Reshape_3", List.of(context, "const.merged_shape"));

            String attention = linear(path + "/attention/output/dense", name + ".attention.output.dense", context, hidden, hidden);
            attention = op("Add", path + "/attention/output/Add", List.of(attention, x));
            attention = layerNorm(path + "/attention/output/LayerNorm", name + ".attention.output.LayerNorm", attention, null);

            String intermediate = linear(path + "/intermediate/dense", name + ".intermediate.dense", attention,
                    hidden, config.intermediateSize());
            intermediate = activation(path + "/intermediate/intermediate_act_fn", intermediate);
            String out = linear(path + "/output/dense", name + ".output.dense", intermediate, config.intermediateSize(), hidden);
            out = op("Add", path + "/output/Add", List.of(out, attention));
            return layerNorm(path + "/output/LayerNorm", name + ".output.LayerNorm", out, outputName);
        }

        /** {@code BertPooler}: tanh(dense(hidden_state[:, 0])). */
        private void pooler(String hiddenState) {
            int hidden = config.hiddenSize();
            g.longInitializer("const.index_0", new long[] {}, 0);
            String first = op("Gather", "/pooler/Gather", List.of(hiddenState, "const.index_0"), Attribute.ofInt("axis", 1));
            String dense = linear("/pooler/dense", "pooler.dense", first, hidden, hidden);
            op("Tanh", "/pooler/activation/Tanh", List.of(dense), "pooler_output");
        }

        private String activation(String path, String x) {
            return switch (config.hiddenAct()) {
                case GELU -> { // x * 0.5 * (1 + erf(x / sqrt(2))), as torch exports nn.functional.gelu
                    constant("const.sqrt_2", (float) Math.sqrt(2));
                    constant("const.half", 0.5f);
                    String e = op("Div", path + "/Div", List.of(x, "const.sqrt_2"));
                    e = op("Erf", path + "/Erf", List.of(e));
                    e = op("Add", path + "/Add", List.of(e, "const.one"));
                    e = op("Mul", path + "/Mul", List.of(x, e));
                    yield op("Mul", path + "/Mul_1", List.of(e, "const.half"));
                }
                case GELU_TANH -> { // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), NewGELUActivation
                    constant("const.half", 0.5f);
                    constant("const.three", 3f);
                    constant("const.gelu_tanh_cubic", 0.044715f);
                    constant("const.sqrt_2_over_pi", (float) Math.sqrt(2 / Math.PI));
                    String half = op("Mul", path + "/Mul", List.of("const.half", x));
                    String cube = op("Pow", path + "/Pow", List.of(x, "const.three"));
                    String inner = op("Mul", path + "/Mul_1", List.of("const.gelu_tanh_cubic", cube));
                    inner = op("Add", path + "/Add", List.of(x, inner));
                    inner = op("Mul", path + "/Mul_2", List.of("const.sqrt_2_over_pi", inner));
                    inner = op("Tanh", path + "/Tanh", List.of(inner));
                    inner = op("Add", path + "/Add_1", List.of("const.one", inner));
                    yield op("Mul", path + "/Mul_3", List.of(half, inner));
                }
                case RELU -> op("Relu", path + "/Relu", List.of(x));
            };
        }

        /** A float scalar initializer, defined on first use (only some activations need it). */
        private void constant(String name, float value) {
            if (definedConstants.add(name)) g.floatInitializer(name, new long[] {}, value);
        }

        /** {@code nn.Linear}: x . W^T + b, with W^T stored as an [in, out] initializer. */
        private String linear(String path, String module, String x, int in, int out) {
            String weightT = transposedWeight(module + ".weight", out, in);
            String bias = weight(module + ".bias", out);
            String y = op("MatMul", path + "/MatMul", List.of(x, weightT));
            return op("Add", path + "/Add", List.of(y, bias));
        }

        private String layerNorm(String path, String module, String x, String outputName) {
            String gamma = weight(module + ".weight", config.hiddenSize());
            String beta = weight(module + ".bias", config.hiddenSize());
            Attribute[] attributes = {Attribute.ofInt("axis", -1), Attribute.ofFloat("epsilon", (float) config.layerNormEps())};
            String output = outputName != null ? outputName : path + "/LayerNormalization_output_0";
            g.node("LayerNormalization", path + "/LayerNormalization", List.of(x, gamma, beta), List.of(output), attributes);
            return output;
        }

        /** A checkpoint tensor as an F32 initializer under its canonical name. */
        private String weight(String canonicalName, long... shape) {
            Tensor tensor = checkpoint.require(canonicalName, shape);
            g.initializer(canonicalName, OnnxModelWriter.FLOAT, shape, tensor.elementCount() * Float.BYTES,
                    sink -> writeFloats(sink, tensor));
            return canonicalName;
        }

        /** An [out, in] Linear weight stored transposed, [in, out], the right operand of MatMul. */
        private String transposedWeight(String canonicalName, int out, int in) {
            Tensor tensor = checkpoint.require(canonicalName, out, in);
            String name = "onnx::MatMul_" + canonicalName;
            g.initializer(name, OnnxModelWriter.FLOAT, new long[] {in, out}, (long) in * out * Float.BYTES,
                    sink -> writeTransposed(sink, tensor, out, in));
            return name;
        }

        private String op(String opType, String nodeName, List<String> inputs, Attribute... attributes) {
            return op(opType, nodeName, inputs, nodeName + "_output_0", attributes);
        }

        private String op(String opType, String nodeName, List<String> inputs, String output, Attribute... attributes) {
            g.node(opType, nodeName, inputs, List.of(output), attributes);
            return output;
        }
    }

    private static void writeFloats(ByteSink sink, Tensor tensor) throws IOException {
        if (tensor.dtype() == DType.F32) {
            sink.put(tensor.data()); // already little-endian F32
            return;
        }
        FloatReader values = reader(tensor);
        for (long i = 0; i < tensor.elementCount(); i++) sink.putFloat(values.get(i));
    }

    /** Writes W^T ([cols, rows]) of the row-major [rows, cols] tensor W, a block of columns at a time. */
    private static void writeTransposed(ByteSink sink, Tensor tensor, int rows, int cols) throws IOException {
        FloatReader w = reader(tensor);
        float[] block = new float[TRANSPOSE_BLOCK * rows];
        for (int c0 = 0; c0 < cols; c0 += TRANSPOSE_BLOCK) {
            int width = Math.min(TRANSPOSE_BLOCK, cols - c0);
            for (int r = 0; r < rows; r++) {
                long rowStart = (long) r * cols + c0;
                for (int c = 0; c < width; c++) block[c * rows + r] = w.get(rowStart + c);
            }
            sink.putFloats(block, 0, width * rows);
        }
    }

    @FunctionalInterface
    private interface FloatReader {
        float get(long index);
    }

    /** Element i of a floating-point tensor, widened to float. */
    private static FloatReader reader(Tensor tensor) {
        MemorySegment data = tensor.data();
        return switch (tensor.dtype()) {
            case F32 -> i -> data.get(F32_LE, i * 4);
            case BF16 -> i -> Float.intBitsToFloat((data.get(I16_LE, i * 2) & 0xFFFF) << 16);
            case F16 -> i -> Float.float16ToFloat(data.get(I16_LE, i * 2));
            default -> throw new IllegalArgumentException("tensor \"" + tensor.name() + "\" is " + tensor.dtype()
                    + ", not a floating-point weight");
        };
    }
}
