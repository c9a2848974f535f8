package bertj.tools;

import bertj.loader.BertCheckpoint;
import bertj.loader.Checkpoint;
import bertj.loader.ModelDirectory;
import bertj.loader.Sizes;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj inspect MODEL}: the architecture as {@code print(model)} shows it in PyTorch, the exact
 * parameter count, and the weight files with their dtypes.
 */
@Command(name = "inspect",
        description = "Print a model's architecture as PyTorch prints it, its parameter count and weight files.")
final class InspectCommand extends CliCommand {
    @Parameters(paramLabel = "MODEL", description = ModelArgument.HELP)
    String model;

    @Override
    public Integer call() throws Exception {
        Path dir = ModelArgument.resolve(model);
        try (ModelDirectory md = ModelDirectory.open(dir)) {
            BertCheckpoint weights = md.bertCheckpoint();
            BertArchitecture arch = BertArchitecture.read(md.configPath(), md.config());
            TorchModule tree = arch.model(weights.hasPooler());
            long inCheckpoint = weights.parameterCount(); // also checks every tensor's presence and shape
            PrintWriter out = out();
            out.println(tree.repr());
            if (!BertArchitecture.ARCHITECTURES.contains(arch.architecture())) {
                out.println("note: bertj has no " + arch.architecture() + " head; shown is its BertModel encoder");
            }
            out.println("parameters: " + tree.parameterCount());
            if (inCheckpoint != tree.parameterCount()) {
                out.println("note: the checkpoint holds " + inCheckpoint + " of them (the head's weights are missing)");
            }
            Checkpoint files = weights.checkpoint();
            for (Path f : files.files()) {
                out.println("file: " + f.getFileName() + " (" + Sizes.decimal(Files.size(f)) + ")");
            }
            files.dtypeSummary().values().forEach(s -> out.println("dtype: " + s.dtype() + ": " + s.tensors()
                    + " tensors, " + s.elements() + " values (" + Sizes.decimal(s.bytes()) + ")"));
        }
        return Main.OK;
    }
}
