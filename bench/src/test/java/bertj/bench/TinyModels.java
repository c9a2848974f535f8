package bertj.bench;

import bertj.loader.BertConfig;
import bertj.loader.HiddenAct;
import bertj.loader.onnx.OnnxExporter;
import bertj.tools.export.RandomModel;

import java.nio.file.Path;
import java.util.List;

/** Small random BERT directories (with the bert-base-uncased vocabulary) and their ONNX exports, for fast tests. */
final class TinyModels {
    static final BertConfig CONFIG = BertConfig.builder()
            .vocabSize(RandomModel.VOCAB_SIZE).hiddenSize(32).numHiddenLayers(2).numAttentionHeads(4).intermediateSize(64)
            .hiddenAct(HiddenAct.GELU).maxPositionEmbeddings(64).typeVocabSize(2).architectures(List.of("BertModel")).build();

    private TinyModels() {
    }

    static Path model(Path dir, long seed) {
        RandomModel.write(dir, CONFIG, seed);
        return dir;
    }

    static Path onnx(Path model, Path file) {
        OnnxExporter.export(model, file);
        return file;
    }
}
