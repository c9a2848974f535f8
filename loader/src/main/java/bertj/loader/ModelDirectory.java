package bertj.loader;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face model directory: {@code config.json}, the weights ({@code model.safetensors} or shards),
 * tokenizer files, and for sentence-transformers models {@code modules.json} with its pooling module.
 * The config is read when the directory is opened; the weights are mapped on first use of
 * {@link #checkpoint()} and unmapped by {@link #close()}.
 */
public final class ModelDirectory implements AutoCloseable {
    public static final String CONFIG = "config.json";
    private static final String ST_TRANSFORMER = "sentence_transformers.models.Transformer";
    private static final String ST_POOLING = "sentence_transformers.models.Pooling";
    private static final String ST_NORMALIZE = "sentence_transformers.models.Normalize";

    private final Path dir;
    private final BertConfig config;
    private Checkpoint checkpoint;
    private boolean closed;

    private ModelDirectory(Path dir, BertConfig config) {
        this.dir = dir;
        this.config = config;
    }

    /**
     * Opens a model directory and reads its config.json.
     *
     * @throws ModelFormatException if {@code dir} is not a directory, has no config.json, or the config is invalid
     */
    public static ModelDirectory open(Path dir) {
        if (!Files.exists(dir)) throw new ModelFormatException(dir + ": model directory does not exist");
        if (!Files.isDirectory(dir)) throw new ModelFormatException(dir + ": not a directory (expected a model directory)");
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new ModelFormatException(dir + ": no " + CONFIG + " (not a Hugging Face model directory?)");
        }
        return new ModelDirectory(dir, BertConfig.load(config));
    }

    public Path path() {
        return dir;
    }

    public Path configPath() {
        return dir.resolve(CONFIG);
    }

    public BertConfig config() {
        return config;
    }

    /** The weights, mapped on the first call. */
    public synchronized Checkpoint checkpoint() {
        if (closed) throw new IllegalStateException(dir + " is closed");
        if (checkpoint == null) checkpoint = Checkpoint.open(dir);
        return checkpoint;
    }

    /** The weights read as a BERT model with this directory's config. */
    public BertCheckpoint bertCheckpoint() {
        return new BertCheckpoint(checkpoint(), config, configPath().toString());
    }

    public Optional<Path> vocabTxt() {
        return file("vocab.txt");
    }

    public Optional<Path> tokenizerJson() {
        return file("tokenizer.json");
    }

    public Optional<Path> tokenizerConfigJson() {
        return file("tokenizer_config.json");
    }

    public Optional<Path> specialTokensMapJson() {
        return file("special_tokens_map.json");
    }

    public Optional<Path> modulesJson() {
        return file("modules.json");
    }

    public Optional<Path> sentenceBertConfigJson() {
        return file("sentence_bert_config.json");
    }

    /** sentence-transformers' {@code max_seq_length} (sentence_bert_config.json), if given. */
    public OptionalInt maxSeqLength() {
        Optional<Path> file = sentenceBertConfigJson();
        if (file.isEmpty()) return OptionalInt.empty();
        JsonNode n = Json.readObject(file.get()).get("max_seq_length");
        if (n == null || n.isNull()) return OptionalInt.empty();
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0) {
            throw new ModelFormatException(file.get() + ": field \"max_seq_length\" must be a positive integer, found "
                    + Json.kind(n));
        }
        return OptionalInt.of(n.intValue());
    }

    /**
     * The sentence-transformers pooling, from modules.json; empty when there is no modules.json or it lists no
     * Pooling module.
     *
     * @throws ModelFormatException if modules.json or the pooling config is malformed, or the pipeline has a
     *         module bertj does not run (e.g. Dense), since ignoring it would give wrong embeddings
     */
    public Optional<PoolingConfig> pooling() {
        Optional<Path> modulesFile = modulesJson();
        if (modulesFile.isEmpty()) return Optional.empty();
        Path modules = modulesFile.get();
        String poolingPath = null;
        boolean normalize = false;
        for (Module module : modules(modules)) {
            switch (module.type()) {
                case ST_TRANSFORMER -> { }
                case ST_POOLING -> poolingPath = module.path();
                case ST_NORMALIZE -> normalize = true;
                default -> throw new ModelFormatException(modules + ": module \"" + module.path() + "\" has type " + module.type()
                        + ", which bertj does not support (only " + String.join(", ", List.of(ST_TRANSFORMER,
                        ST_POOLING, ST_NORMALIZE)) + ")");
            }
        }
        if (poolingPath == null) return Optional.empty();
        return Optional.of(new PoolingConfig(poolingMode(modules, poolingPath), normalize));
    }

    /**
     * The files of a sentence-transformers pipeline that bertj reads besides modules.json: the Pooling module's
     * {@code config.json}, as a path relative to the model directory (not checked to stay inside it).
     *
     * @throws ModelFormatException if modules.json is malformed
     */
    public static List<String> pipelineFiles(Path modulesJson) {
        List<String> files = new ArrayList<>();
        for (Module module : modules(modulesJson)) {
            if (!module.type().equals(ST_POOLING)) continue;
            String dir = module.path().replaceAll("/+$", "");
            files.add(dir.isEmpty() ? CONFIG : dir + "/" + CONFIG);
        }
        return files;
    }

    /** One entry of modules.json. */
    private record Module(String type, String path) {
    }

    private static List<Module> modules(Path modules) {
        JsonNode root = Json.parse(TextFiles.readUtf8(modules), modules.toString());
        if (!root.isArray()) throw new ModelFormatException(modules + ": expected a JSON array of modules, found " + Json.kind(root));
        List<Module> out = new ArrayList<>();
        for (JsonNode module : root) out.add(new Module(text(modules, module, "type"), text(modules, module, "path")));
        return out;
    }

    private PoolingConfig.Mode poolingMode(Path modules, String modulePath) {
        Path moduleDir = inside(modules, modulePath);
        Path file = moduleDir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(modules + ": the Pooling module's config " + file + " does not exist");
        }
        JsonNode cfg = Json.readObject(file);
        JsonNode dim = cfg.get("word_embedding_dimension");
        if (dim != null && !dim.isNull() && (!dim.isIntegralNumber() || dim.intValue() != config.hiddenSize())) {
            throw new ModelFormatException(file + ": word_embedding_dimension is " + Json.kind(dim)
                    + " but hidden_size in " + configPath() + " is " + config.hiddenSize());
        }
        PoolingConfig.Mode mode = null;
        for (String flag : List.of("pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")) {
            JsonNode n = cfg.get(flag);
            if (n == null || n.isNull()) continue;
            if (!n.isBoolean()) throw new ModelFormatException(file + ": field \"" + flag + "\" must be true or false, found " + Json.kind(n));
            if (!n.booleanValue()) continue;
            PoolingConfig.Mode m = switch (flag) {
                case "pooling_mode_cls_token" -> PoolingConfig.Mode.CLS;
                case "pooling_mode_mean_tokens" -> PoolingConfig.Mode.MEAN;
                case "pooling_mode_max_tokens" -> PoolingConfig.Mode.MAX;
                default -> throw new ModelFormatException(file + ": " + flag + " is not supported by bertj "
                        + "(only cls_token, mean_tokens, max_tokens)");
            };
            if (mode != null) {
                throw new ModelFormatException(file + ": more than one pooling mode is enabled (" + mode + " and "
                        + m + "); bertj supports exactly one");
            }
            mode = m;
        }
        if (mode == null) throw new ModelFormatException(file + ": no pooling_mode_* flag is true");
        return mode;
    }

    /** A module path from modules.json, which must stay inside the model directory. */
    private Path inside(Path modules, String relative) {
        Path base = dir.toAbsolutePath().normalize();
        Path resolved;
        try {
            resolved = base.resolve(relative).normalize();
        } catch (InvalidPathException e) {
            throw new ModelFormatException(modules + ": invalid module path \"" + relative + "\"");
        }
        if (!resolved.startsWith(base)) {
            throw new ModelFormatException(modules + ": module path \"" + relative + "\" points outside the model directory");
        }
        return resolved;
    }

    private static String text(Path source, JsonNode module, String field) {
        if (!module.isObject()) throw new ModelFormatException(source + ": each module must be a JSON object, found " + Json.kind(module));
        JsonNode n = module.get(field);
        if (n == null || !n.isTextual()) {
            throw new ModelFormatException(source + ": module field \"" + field + "\" must be a string, found " + Json.kind(n));
        }
        return n.textValue();
    }


    private Optional<Path> file(String name) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Unmaps the weights if they were mapped. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (checkpoint != null) {
            checkpoint.close();
            checkpoint = null;
        }
    }

    @Override
    public String toString() {
        return "ModelDirectory[" + dir + "]";
    }
}
