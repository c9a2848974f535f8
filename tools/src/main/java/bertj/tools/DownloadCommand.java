package bertj.tools;

import bertj.loader.hub.DownloadProgress;
import bertj.loader.hub.Hub;
import bertj.loader.hub.HubSettings;
import bertj.loader.hub.ModelName;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bertj download MODEL [--revision R]}: fetches a Hub model into the Hugging Face cache and prints its snapshot. */
@Command(name = "download", description = {
        "Fetch a Hugging Face model into the Hugging Face cache, without running it, and",
        "print its snapshot directory. Fetches what bertj reads: config.json, the",
        "safetensors weights, the tokenizer and sentence-transformers files."})
final class DownloadCommand extends CliCommand {
    @Parameters(paramLabel = "MODEL", description = "A Hugging Face model name: org/name, or name, optionally @revision.")
    String model;

    @Option(names = "--revision", paramLabel = "R", description = "A branch, tag or commit (default: MODEL's @revision, else main).")
    String revision;

    @Override
    public Integer call() {
        ModelName name = ModelName.parse(model);
        if (revision != null) {
            if (model.contains("@") && !name.revision().equals(revision)) {
                throw new IllegalArgumentException("MODEL names revision " + name.revision() + " and --revision " + revision + "; give one");
            }
            name = name.at(revision);
        }
        Hub hub = new Hub(HubSettings.fromEnvironment(), DownloadProgress.toConsole(err(), DownloadProgress.terminal()));
        Path snapshot = hub.snapshot(name);
        out().println(snapshot);
        return Main.OK;
    }
}
