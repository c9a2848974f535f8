package bertj.tools;

import bertj.loader.BertConfig;
import bertj.loader.ModelFormatException;
import bertj.loader.OutputDirectory;
import bertj.loader.onnx.OnnxToHuggingFace;
import bertj.loader.onnx.OnnxToHuggingFace.SentenceTransformers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj import-onnx FILE.onnx OUT_DIR [--tokenizer tokenizer.json]}: a BERT encoder exported to ONNX, as a
 * Hugging Face model directory, converted as the default model is ({@link OnnxToHuggingFace}).
 */
@Command(name = "import-onnx", description = {
        "Convert a BERT encoder exported to ONNX (float weights) into a Hugging Face model",
        "directory: config.json read off the graph, model.safetensors, the tokenizer files."})
final class ImportOnnxCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "FILE.onnx", description = "The ONNX export.")
    Path onnx;

    @Parameters(index = "1", paramLabel = "OUT_DIR", description = "The model directory to create (it must not exist, or be empty).")
    Path output;

    @Option(names = "--tokenizer", paramLabel = "tokenizer.json",
            description = "The model's WordPiece tokenizer.json, written with vocab.txt and tokenizer_config.json.")
    Path tokenizer;

    @Option(names = "--pooling", paramLabel = "MODE", converter = PoolingConverter.class,
            description = "Describe a sentence-transformers pipeline with this pooling (cls, mean or max), so that embed uses it.")
    String pooling;

    @Option(names = "--normalize", description = "With --pooling: the pipeline L2-normalises the embeddings.")
    boolean normalize;

    @Option(names = "--max-seq-length", paramLabel = "N", defaultValue = "512",
            description = "With --pooling: the pipeline's max_seq_length (default ${DEFAULT-VALUE}).")
    int maxSeqLength;

    @Override
    public Integer call() throws IOException {
        if (pooling == null && normalize) throw new IllegalArgumentException("--normalize goes with --pooling");
        if (maxSeqLength <= 0) throw new IllegalArgumentException("--max-seq-length must be positive, got " + maxSeqLength);
        BertConfig config = importOnnx(onnx, tokenizer, output,
                pooling == null ? null : new SentenceTransformers(pooling, normalize, maxSeqLength));
        out().printf(Locale.ROOT, "converted %s into %s: %s, %d layers, hidden size %d, %d heads%n", onnx, output,
                String.join(",", config.architectures()), config.numHiddenLayers(), config.hiddenSize(), config.numAttentionHeads());
        return Main.OK;
    }

    /**
     * Converts into a temporary directory beside {@code output} and renames it into place, so that a failed
     * conversion leaves nothing.
     */
    static BertConfig importOnnx(Path onnx, Path tokenizer, Path output, SentenceTransformers pipeline) throws IOException {
        requireFile(onnx, "FILE.onnx");
        if (tokenizer != null) requireFile(tokenizer, "--tokenizer");
        return OutputDirectory.write(output, staging -> OnnxToHuggingFace.convert(onnx, tokenizer, staging, pipeline));
    }

    private static void requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file + ": " + (Files.exists(file) ? "not a file" : "no such file") + " (" + what + ")");
        }
    }

    /** cls, mean or max, as sentence-transformers names them in its Pooling config. */
    static final class PoolingConverter extends NameConverter<String> {
        PoolingConverter() {
            super(List.of("cls", "mean", "max"), List.of("cls_token", "mean_tokens", "max_tokens"));
        }
    }
}
