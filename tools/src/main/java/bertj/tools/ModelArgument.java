package bertj.tools;

import bertj.loader.DefaultModel;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.hub.Hub;
import bertj.loader.hub.ModelName;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** The MODEL argument of the commands: {@code default}, a model directory, or a Hugging Face model name. */
public final class ModelArgument {
    /** How the CLI describes a MODEL argument. */
    public static final String HELP = "A model directory, a Hugging Face model name (org/name[@revision]), or 'default'.";
    private static final String GIVE = "give a model directory, a Hugging Face model name such as org/name, or \"default\"";

    private ModelArgument() {
    }

    /**
     * {@code default} (converted on first use), a model directory (which wins when it exists), or a Hugging Face
     * model name, fetched into the Hugging Face cache (see {@link Hub}); with messages that say what was wrong.
     *
     * @throws ModelFormatException if the directory does not exist or has no config.json
     * @throws bertj.loader.hub.HubException if the named model cannot be fetched
     */
    public static Path resolve(String arg) {
        if (arg.equals(DefaultModel.WORD)) return DefaultModel.ensureConverted();
        if (arg.isBlank()) throw new IllegalArgumentException("MODEL is empty: " + GIVE);
        Path dir;
        try {
            dir = Path.of(arg);
        } catch (InvalidPathException e) {
            if (ModelName.isValid(arg)) return Hub.locate(arg);
            throw new IllegalArgumentException("invalid model path \"" + arg + "\": " + e.getReason());
        }
        if (!Files.exists(dir)) {
            if (ModelName.isValid(arg)) return Hub.locate(arg);
            throw new ModelFormatException(arg + ": no such model directory (" + GIVE + ")");
        }
        if (!Files.isDirectory(dir)) throw new ModelFormatException(arg + ": not a directory (expected a Hugging Face model directory)");
        if (!Files.isRegularFile(dir.resolve(ModelDirectory.CONFIG))) {
            throw new ModelFormatException(arg + ": no config.json (not a Hugging Face model directory?)");
        }
        return dir;
    }
}
