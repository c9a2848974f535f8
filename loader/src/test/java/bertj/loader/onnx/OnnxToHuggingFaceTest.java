package bertj.loader.onnx;

import static bertj.loader.onnx.Proto.floatTensor;
import static bertj.loader.onnx.Proto.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.BertConfig;
import bertj.loader.HiddenAct;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxToHuggingFace.Mapping;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The converter on small hand-built graphs written the other ways exporters write BERT: fused
 * LayerNormalization and Gelu operators, Gemm layers with and without transB, weights named only by their
 * node, biases under onnx:: names, a constant Reshape target. The real all-MiniLM-L6-v2 export is checked in
 * {@link DefaultModelConversionTest}.
 */
class OnnxToHuggingFaceTest {
    static final int H = 4, I = 6, V = 5, P = 3, LABELS = 3;

    /** Values 0, 1, 2, ... so that every element of a tensor is distinguishable. */
    static float[] iota(int n, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = offset + i;
        return v;
    }

    static Proto oneLayerGraph() {
        String l = "encoder.layer.0.";
        Proto g = new Proto();
        // embeddings, with a fused LayerNormalization
        g.message(1, node("Gather", "/embeddings/word_embeddings/Gather", List.of("embeddings.word_embeddings.weight", "input_ids"), List.of("e")));
        g.message(1, node("LayerNormalization", "/embeddings/LayerNorm", List.of("e", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"),
                List.of("h0"), Proto.floatAttribute("epsilon", 1e-12f)));
        // query: MatMul + Add(x, named bias); key: Add(named bias, x); value: bias under an onnx:: name, node named by module
        g.message(1, node("MatMul", "/encoder/layer.0/attention/self/query/MatMul", List.of("h0", "onnx::MatMul_1"), List.of("q0")));
        g.message(1, node("Add", "/encoder/layer.0/attention/self/query/Add", List.of("q0", l + "attention.self.query.bias"), List.of("q")));
        g.message(1, node("MatMul", "/encoder/layer.0/attention/self/key/MatMul", List.of("h0", "onnx::MatMul_2"), List.of("k0")));
        g.message(1, node("Add", "k_add", List.of(l + "attention.self.key.bias", "k0"), List.of("k")));
        g.message(1, node("MatMul", "/encoder/layer.0/attention/self/value/MatMul", List.of("h0", "onnx::MatMul_3"), List.of("v0")));
        g.message(1, node("Add", "v_add", List.of("v0", "onnx::Add_3"), List.of("v")));
        g.message(1, node("Reshape", "r", List.of("q", "onnx::Reshape_shape"), List.of("q4")));
        g.message(1, node("MatMul", "scores", List.of("q4", "k"), List.of("s")));
        g.message(1, node("Mul", "scale", List.of("s", "onnx::Mul_scale"), List.of("s1")));
        g.message(1, node("Add", "mask", List.of("s1", "m"), List.of("s2")));
        g.message(1, node("Softmax", "softmax", List.of("s2"), List.of("p"), Proto.intAttribute("axis", -1)));
        g.message(1, node("MatMul", "/encoder/layer.0/attention/output/dense/MatMul", List.of("p", "onnx::MatMul_4"), List.of("o0")));
        g.message(1, node("Add", "o_add", List.of("o0", l + "attention.output.dense.bias"), List.of("o")));
        g.message(1, node("LayerNormalization", "ln1", List.of("o", l + "attention.output.LayerNorm.weight", l + "attention.output.LayerNorm.bias"),
                List.of("h1"), Proto.floatAttribute("epsilon", 1e-12f)));
        // intermediate: weight and bias both nameless, named by the node; a fused Gelu with the tanh approximation
        g.message(1, node("MatMul", "/encoder/layer.0/intermediate/dense/MatMul", List.of("h1", "onnx::MatMul_5"), List.of("i0")));
        g.message(1, node("Add", "i_add", List.of("onnx::Add_5", "i0"), List.of("i1")));
        g.message(1, node("Gelu", "gelu", List.of("i1"), List.of("i2"), new Proto().string(1, "approximate").string(4, "tanh").varint(20, 3)));
        // output: Gemm with B in [in, out] (transB = 0)
        g.message(1, node("Gemm", "/encoder/layer.0/output/dense/Gemm", List.of("i2", "onnx::Gemm_6", l + "output.dense.bias"), List.of("d")));
        g.message(1, node("LayerNormalization", "ln2", List.of("d", l + "output.LayerNorm.weight", l + "output.LayerNorm.bias"),
                List.of("h2"), Proto.floatAttribute("epsilon", 1e-12f)));
        // token classification head: Gemm with transB = 1, weight already [out, in]
        g.message(1, node("Gemm", "/classifier/Gemm", List.of("h2", "classifier.weight", "classifier.bias"), List.of("logits"),
                Proto.intAttribute("transB", 1)));

        g.message(5, floatTensor("embeddings.word_embeddings.weight", new long[] {V, H}, iota(V * H, 0)));
        g.message(5, floatTensor("embeddings.position_embeddings.weight", new long[] {P, H}, iota(P * H, 100)));
        g.message(5, floatTensor("embeddings.token_type_embeddings.weight", new long[] {2, H}, iota(2 * H, 200)));
        for (String ln : List.of("embeddings.LayerNorm.", l + "attention.output.LayerNorm.", l + "output.LayerNorm.")) {
            g.message(5, floatTensor(ln + "weight", new long[] {H}, iota(H, 300)));
            g.message(5, floatTensor(ln + "bias", new long[] {H}, iota(H, 400)));
        }
        g.message(5, floatTensor("onnx::MatMul_1", new long[] {H, H}, iota(H * H, 1000)));
        g.message(5, floatTensor("onnx::MatMul_2", new long[] {H, H}, iota(H * H, 2000)));
        g.message(5, floatTensor("onnx::MatMul_3", new long[] {H, H}, iota(H * H, 3000)));
        g.message(5, floatTensor("onnx::MatMul_4", new long[] {H, H}, iota(H * H, 4000)));
        g.message(5, floatTensor("onnx::MatMul_5", new long[] {H, I}, iota(H * I, 5000)));
        g.message(5, floatTensor("onnx::Gemm_6", new long[] {I, H}, iota(I * H, 6000)));
        g.message(5, floatTensor("classifier.weight", new long[] {LABELS, H}, iota(LABELS * H, 7000)));
        g.message(5, floatTensor("classifier.bias", new long[] {LABELS}, iota(LABELS, 7500)));
        for (String b : List.of("attention.self.query.bias", "attention.self.key.bias", "attention.output.dense.bias", "output.dense.bias")) {
            g.message(5, floatTensor(l + b, new long[] {H}, iota(H, 8000)));
        }
        g.message(5, floatTensor("onnx::Add_3", new long[] {H}, iota(H, 8100)));
        g.message(5, floatTensor("onnx::Add_5", new long[] {I}, iota(I, 8200)));
        g.message(5, Proto.int64Tensor("onnx::Reshape_shape", 0, 0, 2, 2)); // 2 heads of size 2
        g.message(5, floatTensor("onnx::Mul_scale", new long[] {}, (float) (1 / Math.sqrt(2))));
        g.message(5, Proto.int64Tensor("embeddings.position_ids", 0, 1, 2)); // a buffer, not a parameter
        return g;
    }

    static OnnxToHuggingFace.Plan plan(Proto graph) {
        return OnnxToHuggingFace.plan(OnnxReader.parse(Proto.model(graph).toByteArray(), "test.onnx").graph(), "test.onnx", 0);
    }

    @Test
    void readsTheConfigOffAnotherExportStyle() {
        BertConfig c = plan(oneLayerGraph()).config();
        assertEquals(V, c.vocabSize());
        assertEquals(H, c.hiddenSize());
        assertEquals(1, c.numHiddenLayers());
        assertEquals(2, c.numAttentionHeads());
        assertEquals(I, c.intermediateSize());
        assertEquals(HiddenAct.GELU_TANH, c.hiddenAct());
        assertEquals(P, c.maxPositionEmbeddings());
        assertEquals(2, c.typeVocabSize());
        assertEquals(1e-12, c.layerNormEps());
        assertEquals(List.of("BertForTokenClassification"), c.architectures());
        assertEquals(LABELS, c.numLabels());
    }

    @Test
    void namesAndTransposesEveryLinearLayer() {
        Map<String, Mapping> tensors = plan(oneLayerGraph()).tensors().stream()
                .collect(Collectors.toMap(Mapping::name, m -> m, (a, b) -> a, TreeMap::new));
        String l = "encoder.layer.0.";
        List<String> expected = new ArrayList<>(List.of("classifier.bias", "classifier.weight",
                "embeddings.LayerNorm.bias", "embeddings.LayerNorm.weight", "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight", "embeddings.word_embeddings.weight"));
        for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")) {
            expected.add(l + m + ".weight");
            expected.add(l + m + ".bias");
        }
        assertEquals(new TreeSet<>(expected), tensors.keySet());

        assertEquals("onnx::MatMul_3", tensors.get(l + "attention.self.value.weight").source().name());
        assertEquals("onnx::Add_3", tensors.get(l + "attention.self.value.bias").source().name());
        assertEquals("onnx::Add_5", tensors.get(l + "intermediate.dense.bias").source().name());
        assertTrue(tensors.get(l + "intermediate.dense.weight").transposed());
        assertTrue(tensors.get(l + "output.dense.weight").transposed(), "Gemm without transB holds [in, out]");
        assertFalse(tensors.get("classifier.weight").transposed(), "Gemm with transB holds [out, in]");
        assertArrayEquals(new long[] {I, H}, tensors.get(l + "intermediate.dense.weight").shape());
        assertArrayEquals(new long[] {H, I}, tensors.get(l + "output.dense.weight").shape());

        try (Arena arena = Arena.ofConfined()) {
            Tensor w = OnnxToHuggingFace.toTensor(tensors.get(l + "intermediate.dense.weight"), arena);
            float[] source = iota(H * I, 5000); // [in = H, out = I], row-major
            float[] converted = w.toFloatArray(); // [out = I, in = H]
            for (int out = 0; out < I; out++) {
                for (int in = 0; in < H; in++) assertEquals(source[in * I + out], converted[out * H + in]);
            }
            assertArrayEquals(iota(LABELS * H, 7000), OnnxToHuggingFace.toTensor(tensors.get("classifier.weight"), arena).toFloatArray());
        }
    }

    @Test
    void aWeightWithNoNameToGoByIsAnError() {
        Proto g = oneLayerGraph()
                .message(1, node("MatMul", "", List.of("h2", "onnx::MatMul_7"), List.of("x")))
                .message(5, floatTensor("onnx::MatMul_7", new long[] {H, H}, iota(H * H, 0)));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> plan(g));
        assertTrue(e.getMessage().contains("cannot tell which layer the weight 'onnx::MatMul_7' of MatMul node ''"), e.getMessage());
    }

    @Test
    void aQuantizedGraphIsRefusedAtItsFirstQuantizedNode() {
        Proto g = oneLayerGraph()
                .message(1, node("DynamicQuantizeLinear", "/encoder/layer.0/output/x_QuantizeLinear", List.of("h2"), List.of("q", "s", "z")))
                .message(1, node("MatMulInteger", "/encoder/layer.0/output/dense/MatMul_quant", List.of("q", "w8", "z"), List.of("y")));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> plan(g));
        assertEquals("test.onnx: node '/encoder/layer.0/output/x_QuantizeLinear' (DynamicQuantizeLinear) is part of a"
                + " quantized graph; the converter maps float weights only: convert the unquantized export", e.getMessage());
    }

    @Test
    void aGraphWithoutEmbeddingsIsNotTakenForBert() {
        Proto g = new Proto().message(1, node("Relu", "r", List.of("x"), List.of("y")));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> plan(g));
        assertTrue(e.getMessage().startsWith("test.onnx: no tensor for 'embeddings.word_embeddings.weight'"), e.getMessage());
    }

    @Test
    void disagreeingHeadCountsAreAnError() {
        Proto g = oneLayerGraph();
        // a second, conflicting scale: the first Softmax now divides by sqrt(4), i.e. 1 head of size 4
        Proto conflicting = new Proto()
                .message(1, node("Div", "scale0", List.of("s", "onnx::Div_4"), List.of("t")))
                .message(1, node("Softmax", "softmax0", List.of("t"), List.of("u")))
                .message(5, floatTensor("onnx::Div_4", new long[] {}, 2f));
        byte[] merged = concat(conflicting.toByteArray(), g.toByteArray()); // repeated fields: the Softmax comes first
        OnnxGraph graph = OnnxReader.parse(Proto.model(new Proto().raw(merged)).toByteArray(), "test.onnx").graph();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxToHuggingFace.plan(graph, "test.onnx", 0));
        assertTrue(e.getMessage().contains("the query Reshape says 2 attention heads but the score scale says 1"), e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
