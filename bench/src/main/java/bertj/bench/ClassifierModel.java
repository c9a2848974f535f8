package bertj.bench;

import bertj.loader.BertConfig;
import bertj.loader.Checkpoint;
import bertj.loader.SafetensorsFile;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import bertj.tools.export.RandomModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A sequence classification model for {@code bench oneshot -- classify ...}: {@link RandomModel}'s encoder and
 * pooler of the given shape, plus a {@code classifier} head (normal(0, 0.02) weights, zero bias) in a second
 * shard, and config.json's architectures {@code BertForSequenceClassification} with {@code LABEL_0..}. With
 * the minilm shape and one label it has the shape of the usual cross-encoders (ms-marco-MiniLM-L-6-v2:
 * 6 layers, hidden 384, one relevance score).
 */
final class ClassifierModel {
    static final String ENCODER_SHARD = "model-00001-of-00002.safetensors";
    static final String HEAD_SHARD = "model-00002-of-00002.safetensors";

    private ClassifierModel() {
    }

    /** Writes the model to {@code dir} (created if missing; the files of a previous one are replaced). */
    static void write(Path dir, BertConfig shape, int labels, long seed) throws IOException {
        if (labels < 1) throw new IllegalArgumentException("--labels must be at least 1, got " + labels);
        RandomModel.write(dir, shape, seed);
        Files.move(dir.resolve(Checkpoint.SINGLE_FILE), dir.resolve(ENCODER_SHARD), StandardCopyOption.REPLACE_EXISTING);

        int hidden = shape.hiddenSize();
        float[] weight = new float[labels * hidden];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < weight.length; i++) weight[i] = (float) (RandomModel.INITIALIZER_RANGE * random.nextGaussian());
        SafetensorsWriter.write(dir.resolve(HEAD_SHARD), List.of(
                Tensor.ofFloats("classifier.weight", new long[] {labels, hidden}, weight),
                Tensor.ofFloats("classifier.bias", new long[] {labels}, new float[labels])));

        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata");
        ObjectNode map = index.putObject("weight_map");
        try (SafetensorsFile encoder = SafetensorsFile.open(dir.resolve(ENCODER_SHARD))) {
            for (String name : encoder.names()) map.put(name, ENCODER_SHARD);
        }
        map.put("classifier.weight", HEAD_SHARD).put("classifier.bias", HEAD_SHARD);
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), json.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");

        Path configFile = dir.resolve("config.json");
        ObjectNode config = (ObjectNode) json.readTree(configFile.toFile());
        config.putArray("architectures").add("BertForSequenceClassification");
        ObjectNode id2label = config.putObject("id2label"), label2id = config.putObject("label2id");
        for (int i = 0; i < labels; i++) {
            id2label.put(Integer.toString(i), "LABEL_" + i);
            label2id.put("LABEL_" + i, i);
        }
        Files.writeString(configFile, json.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
    }
}
