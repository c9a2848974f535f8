package bertj.loader.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.testsupport.FuzzHarness;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sizes read from an ONNX file are checked against the bytes it holds before anything is allocated by them. */
class OnnxHostileInputTest {
    /** Parses the model bytes expecting a refusal; returns its message after checking the heap it cost. */
    private static String refusal(byte[] onnx) {
        long before = FuzzHarness.allocatedBytes();
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxToHuggingFace.plan(OnnxReader.parse(onnx, "hostile.onnx").graph(), "hostile.onnx", 0));
        long allocated = FuzzHarness.allocatedBytes() - before;
        assertTrue(allocated < 1 << 20, "allocated " + allocated + " bytes to refuse a " + onnx.length + "-byte file");
        return e.getMessage();
    }

    @Test
    void aTensorClaimingTwoToTheFortyElementsIsRefused() {
        Proto graph = new Proto().message(5, Proto.tensor("w", OnnxDataType.FLOAT, new long[] {1 << 20, 1 << 20}, new byte[16]));
        String message = refusal(Proto.model(graph).toByteArray());
        assertTrue(message.contains("needs 4398046511104 bytes of data, found 16"), message);
    }

    @Test
    void aShapeWhoseSizeOverflowsIsRefused() {
        Proto graph = new Proto().message(5, Proto.tensor("w", OnnxDataType.FLOAT, new long[] {1L << 62, 8}, new byte[4]));
        String message = refusal(Proto.model(graph).toByteArray());
        assertTrue(message.contains("too large to address"), message);
    }

    @Test
    void aLayerNumberBeyondIntIsRefused() {
        Proto graph = OnnxToHuggingFaceTest.oneLayerGraph()
                .message(5, Proto.floatTensor("encoder.layer.99999999999.output.dense.bias", new long[] {1}, 0f));
        String message = refusal(Proto.model(graph).toByteArray());
        assertTrue(message.contains("layer number too large: 99999999999"), message);
    }

    @Test
    void aWeightMatrixOfTheWrongRankIsRefused() {
        Proto graph = new Proto();
        graph.message(5, Proto.floatTensor("embeddings.word_embeddings.weight", new long[] {4}, 1, 2, 3, 4));
        String message = refusal(Proto.model(graph).toByteArray());
        assertTrue(message.contains("has shape [4], expected two dimensions"), message);
    }

    @Test
    void nodesWithoutOutputsOrInputsAreNotTakenForLayers() {
        // the first Softmax is the one the head count is read from
        Proto graph = new Proto().message(1, Proto.node("Softmax", "first", List.of(), List.of("p0")))
                .raw(OnnxToHuggingFaceTest.oneLayerGraph().toByteArray())
                .message(1, Proto.node("MatMul", "/encoder/layer.0/extra/MatMul", List.of("h2", "onnx::MatMul_1"), List.of()));
        // the graph still converts: the output-less MatMul is no linear layer, the input-less Softmax no attention
        OnnxToHuggingFace.plan(OnnxReader.parse(Proto.model(graph).toByteArray(), "odd.onnx").graph(), "odd.onnx", 0);
    }
}
