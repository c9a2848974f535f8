package bertj.train;

import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.Checkpoint;
import bertj.loader.DType;
import bertj.loader.ModelDirectory;
import bertj.loader.OutputDirectory;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A head trained on a frozen encoder, ready to be saved as the Hugging Face checkpoint transformers writes for
 * {@code BertForSequenceClassification} or {@code BertForTokenClassification}: config.json with the labels,
 * {@code model.safetensors} with the encoder's tensors under {@code bert.} and {@code classifier.weight} /
 * {@code classifier.bias}, and the tokenizer files.
 *
 * <p>A sequence classifier on a model without a pooler gets an identity pooler (weight I, bias 0): the head was
 * trained on tanh of the [CLS] row, which is exactly what that pooler gives, in transformers as in bertj.
 */
public final class TrainedHead {
    /** The architecture written. */
    public enum Task {
        SEQUENCE_CLASSIFICATION("BertForSequenceClassification"),
        TOKEN_CLASSIFICATION("BertForTokenClassification");

        private final String architecture;

        Task(String architecture) {
            this.architecture = architecture;
        }

        public String architecture() {
            return architecture;
        }
    }

    /** The tokenizer files a model directory may have, copied as they are. */
    static final List<String> TOKENIZER_FILES = List.of("vocab.txt", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path model;
    private final Task task;
    private final List<String> labels;
    private final ProblemType problemType;
    private final LinearHead classifier;
    private final List<EpochResult> epochs;

    TrainedHead(Path model, Task task, List<String> labels, ProblemType problemType, LinearHead classifier, List<EpochResult> epochs) {
        this.model = model;
        this.task = task;
        this.labels = List.copyOf(labels);
        this.problemType = problemType;
        this.classifier = classifier;
        this.epochs = List.copyOf(epochs);
    }

    public Task task() {
        return task;
    }

    /** The labels by id: id2label. */
    public List<String> labels() {
        return labels;
    }

    /** The sequence classifier's problem type; null for token classification. */
    public ProblemType problemType() {
        return problemType;
    }

    /** The epochs run, in order. */
    public List<EpochResult> epochs() {
        return epochs;
    }

    /** The head's logits, in double, for one row of features. */
    double[] logits(float[] features) {
        return classifier.logits(features);
    }

    LinearHead classifier() {
        return classifier;
    }

    /**
     * Writes the checkpoint into {@code directory}, which must not exist or be empty: into a temporary directory
     * beside it, renamed into place once complete, so that nothing half written is left (see {@link OutputDirectory}).
     */
    public void save(Path directory) throws IOException {
        OutputDirectory.write(directory, staging -> {
            write(staging);
            return null;
        });
    }

    private void write(Path directory) throws IOException {
        try (ModelDirectory source = ModelDirectory.open(model)) {
            BertCheckpoint bert = source.bertCheckpoint();
            BertConfig config = source.config();
            int hidden = config.hiddenSize();
            List<Tensor> tensors = new ArrayList<>();
            for (String name : BertCheckpoint.bertModelNames(config, false)) addEncoderTensor(bert, name, tensors);
            if (task == Task.SEQUENCE_CLASSIFICATION) {
                if (bert.hasPooler()) {
                    addEncoderTensor(bert, "pooler.dense.weight", tensors);
                    addEncoderTensor(bert, "pooler.dense.bias", tensors);
                } else {
                    float[] identity = new float[hidden * hidden];
                    for (int i = 0; i < hidden; i++) identity[i * hidden + i] = 1;
                    tensors.add(Tensor.ofFloats("bert.pooler.dense.weight", new long[] {hidden, hidden}, identity));
                    tensors.add(Tensor.ofFloats("bert.pooler.dense.bias", new long[] {hidden}, new float[hidden]));
                }
            }
            tensors.add(Tensor.ofFloats("classifier.weight", new long[] {classifier.out, classifier.in}, toFloats(classifier.weight)));
            tensors.add(Tensor.ofFloats("classifier.bias", new long[] {classifier.out}, toFloats(classifier.bias)));
            SafetensorsWriter.write(directory.resolve(Checkpoint.SINGLE_FILE), tensors, Map.of("format", "pt"));
            TextFiles.writeJson(directory.resolve(ModelDirectory.CONFIG), config(source.configPath()));
            for (String file : TOKENIZER_FILES) {
                Path from = model.resolve(file);
                if (Files.isRegularFile(from)) Files.copy(from, directory.resolve(file));
            }
        }
    }

    /** The source's config.json, every field kept, with the head's architecture, labels and problem type. */
    private ObjectNode config(Path sourceConfig) {
        ObjectNode config;
        try {
            config = (ObjectNode) JSON.readTree(TextFiles.readUtf8(sourceConfig));
        } catch (IOException e) {
            throw new UncheckedIOException(sourceConfig + ": cannot be read: " + e.getMessage(), e);
        }
        config.putArray("architectures").add(task.architecture());
        ObjectNode id2label = config.putObject("id2label"), label2id = config.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        config.put("num_labels", labels.size());
        if (problemType != null) {
            config.put("problem_type", problemType.configName());
        } else {
            config.remove("problem_type");
        }
        return config;
    }

    /** The encoder's tensor {@code name} (canonical) under its {@code bert.} name, with its int8 scales if it has them. */
    private static void addEncoderTensor(BertCheckpoint bert, String name, List<Tensor> out) {
        Tensor t = bert.require(name);
        out.add(Tensor.of("bert." + name, t.dtype(), t.shape(), t.data()));
        if (t.dtype() == DType.I8) {
            String scale = name + BertCheckpoint.INT8_SCALE_SUFFIX;
            out.add(Tensor.ofFloats("bert." + scale, new long[] {t.dim(0)}, bert.int8Scale(name, t.dim(0))));
        }
    }

    private static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }
}
