package bertj.tools.export;

import bertj.loader.onnx.OnnxExporter;
import bertj.tools.CliCommand;
import bertj.tools.ModelArgument;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** {@code bertj export-onnx MODEL OUT.onnx}. */
@Command(name = "export-onnx", mixinStandardHelpOptions = true,
        description = "Write the model as a standard opset-17 ONNX graph, as torch.onnx.export would "
                + "(inputs input_ids, attention_mask, token_type_ids; outputs last_hidden_state and pooler_output).")
public final class ExportOnnxCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
    String model;

    @Parameters(index = "1", paramLabel = "OUT.onnx", description = "The ONNX file to write (replaced if it exists).")
    Path output;

    @Override
    public Integer call() throws IOException {
        Path dir = ModelArgument.resolve(model);
        long start = System.nanoTime();
        OnnxExporter.export(dir, output);
        out().printf(Locale.ROOT, "wrote %s (%.1f MB, ONNX opset %d) in %d ms%n", output, Files.size(output) / 1e6,
                OnnxExporter.OPSET, (System.nanoTime() - start) / 1_000_000);
        return 0;
    }
}
