package bertj.loader.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxExporter;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bertj's own ONNX export (torch.onnx.export's layout, but fused LayerNormalization and constant Reshape
 * targets) converted back: the same config and, bit for bit, the same encoder tensors.
 */
class ExportRoundTripTest {
    @TempDir
    Path temp;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-bert", "tiny-bert-seqcls", "tiny-bert-qa"})
    void exportThenConvertGivesTheModelBack(String name) throws Exception {
        Path original = model(name);
        Path onnx = temp.resolve("model.onnx");
        OnnxExporter.export(original, onnx);
        BertConfig converted = OnnxToHuggingFace.convert(onnx, null, temp.resolve("back"), null);

        try (ModelDirectory a = ModelDirectory.open(original); ModelDirectory b = ModelDirectory.open(temp.resolve("back"))) {
            BertConfig c = a.config();
            assertEquals(c.vocabSize(), converted.vocabSize());
            assertEquals(c.hiddenSize(), converted.hiddenSize());
            assertEquals(c.numHiddenLayers(), converted.numHiddenLayers());
            assertEquals(c.numAttentionHeads(), converted.numAttentionHeads());
            assertEquals(c.intermediateSize(), converted.intermediateSize());
            assertEquals(c.hiddenAct(), converted.hiddenAct());
            assertEquals(c.maxPositionEmbeddings(), converted.maxPositionEmbeddings());
            assertEquals(c.typeVocabSize(), converted.typeVocabSize());
            assertEquals(c.layerNormEps(), converted.layerNormEps());

            BertCheckpoint before = a.bertCheckpoint(), after = b.bertCheckpoint();
            assertEquals(before.hasPooler(), after.hasPooler());
            int compared = 0;
            for (String tensor : BertCheckpoint.bertModelNames(c, before.hasPooler())) {
                Tensor x = before.require(tensor), y = after.require(tensor);
                assertArrayEquals(x.shape(), y.shape(), tensor);
                assertArrayEquals(x.toFloatArray(), y.toFloatArray(), tensor);
                compared++;
            }
            assertTrue(compared >= 37, "compared " + compared);
        }
    }

    static Path model(String name) {
        return Fixtures.model(name);
    }
}
