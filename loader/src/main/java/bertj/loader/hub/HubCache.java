package bertj.loader.hub;

import bertj.loader.hub.HubException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The Hugging Face cache, laid out as {@code huggingface_hub} lays it out, so that either side finds what the
 * other fetched:
 *
 * <pre>
 * {root}/models--{org}--{name}/blobs/{etag}                 file contents, named by etag
 *                              snapshots/{commit}/{file}    relative symlinks to ../../blobs/{etag}
 *                              refs/{revision}              the commit a branch or tag was last seen at
 *                              .no_exist/{commit}/{file}    empty: the Hub said the file does not exist
 * {root}/.locks/models--{org}--{name}/{etag}.lock           held while the blob downloads
 * </pre>
 */
public final class HubCache {
    static final String MODELS_PREFIX = "models--";
    static final String INCOMPLETE = ".incomplete";

    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path modelDir(ModelName model) {
        return root.resolve(model.folderName());
    }

    Path blob(ModelName model, String etag) {
        return modelDir(model).resolve("blobs").resolve(etag);
    }

    Path incomplete(ModelName model, String etag) {
        return modelDir(model).resolve("blobs").resolve(etag + INCOMPLETE);
    }

    public Path snapshot(ModelName model, String commit) {
        return modelDir(model).resolve("snapshots").resolve(commit);
    }

    Path snapshotFile(ModelName model, String commit, String file) {
        return snapshot(model, commit).resolve(file);
    }

    Path ref(ModelName model) {
        return modelDir(model).resolve("refs").resolve(model.revision());
    }

    Path noExist(ModelName model, String commit, String file) {
        return modelDir(model).resolve(".no_exist").resolve(commit).resolve(file);
    }

    Path lock(ModelName model, String etag) {
        return root.resolve(".locks").resolve(model.folderName()).resolve(etag + ".lock");
    }

    /**
     * The commit the model's revision stands for: the revision itself when it is a commit, else what
     * {@code refs/{revision}} holds; empty when the cache does not know it.
     */
    public Optional<String> commit(ModelName model) {
        if (model.pinned()) return Optional.of(model.revision());
        Path ref = ref(model);
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            if (!ModelName.COMMIT.matcher(commit).matches()) {
                throw new HubException(Reason.CACHE, ref + ": holds \"" + HubResponses.clean(commit)
                        + "\", not a 40-hex commit; delete it and fetch the model again");
            }
            return Optional.of(commit);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw cacheError(ref, "cannot read", e);
        }
    }

    /** Records that the model's revision is at {@code commit} (nothing for a commit revision). */
    void writeRef(ModelName model, String commit) {
        if (model.pinned() && model.revision().equals(commit)) return;
        Path ref = ref(model);
        try {
            if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) return;
            Files.createDirectories(ref.getParent());
            Path tmp = ref.resolveSibling("." + ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8); // no newline, as huggingface_hub writes it
            moveAtomically(tmp, ref);
        } catch (IOException e) {
            throw cacheError(ref, "cannot write", e);
        }
    }

    boolean markedMissing(ModelName model, String commit, String file) {
        return Files.exists(noExist(model, commit, file));
    }

    void markMissing(ModelName model, String commit, String file) {
        Path marker = noExist(model, commit, file);
        try {
            Files.createDirectories(marker.getParent());
            Files.createFile(marker);
        } catch (FileAlreadyExistsException e) {
            // marked already
        } catch (IOException e) {
            throw cacheError(marker, "cannot write", e);
        }
    }

    /** Points {@code snapshots/{commit}/{file}} at the blob with a relative symlink, replacing what was there. */
    Path link(ModelName model, String commit, String file, String etag) {
        Path pointer = snapshotFile(model, commit, file);
        Path blob = blob(model, etag);
        try {
            Files.createDirectories(pointer.getParent());
            Path target = pointer.getParent().relativize(blob);
            if (Files.isSymbolicLink(pointer) && Files.readSymbolicLink(pointer).equals(target)) return pointer;
            Path tmp = pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID() + ".tmp");
            try {
                Files.createSymbolicLink(tmp, target);
            } catch (UnsupportedOperationException e) {
                Files.copy(blob, tmp); // no symlinks on this file system: a copy, as huggingface_hub makes there
            }
            moveAtomically(tmp, pointer);
            return pointer;
        } catch (IOException e) {
            throw cacheError(pointer, "cannot write", e);
        }
    }

    /** Renames {@code from} to {@code to} in one step, replacing {@code to}. */
    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static HubException cacheError(Path path, String what, IOException e) {
        String reason = e instanceof NoSuchFileException ? "no such file or directory"
                : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return new HubException(Reason.CACHE, path + ": " + what + ": " + reason, e);
    }

    /** One model (or dataset, or space) in the cache, as {@link #list()} finds it. */
    public record Entry(String repo, Path dir, long bytes, int blobs, long incompleteBytes, Map<String, String> refs,
                        List<String> snapshots) {
    }

    /** Everything in the cache, by name; blob sizes are counted once however many snapshots link them. */
    public List<Entry> list() {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                int dash = name.indexOf("--");
                if (dash <= 0 || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) continue;
                String type = name.substring(0, dash);
                String repo = name.substring(dash + 2).replace("--", "/");
                out.add(entry(type.equals("models") ? repo : type + "/" + repo, dir));
            }
        } catch (IOException e) {
            throw cacheError(root, "cannot list", e);
        }
        out.sort((a, b) -> a.repo().compareTo(b.repo()));
        return out;
    }

    private static Entry entry(String repo, Path dir) throws IOException {
        long bytes = 0, incomplete = 0;
        int blobs = 0;
        Path blobDir = dir.resolve("blobs");
        if (Files.isDirectory(blobDir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(blobDir)) {
                for (Path f : files) {
                    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) continue;
                    long size = Files.size(f);
                    if (f.getFileName().toString().endsWith(INCOMPLETE)) {
                        incomplete += size;
                    } else {
                        bytes += size;
                        blobs++;
                    }
                }
            }
        }
        Map<String, String> refs = new TreeMap<>();
        Path refDir = dir.resolve("refs");
        if (Files.isDirectory(refDir)) {
            try (Stream<Path> walk = Files.walk(refDir)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    refs.put(refDir.relativize(f).toString(), readQuietly(f));
                }
            }
        }
        List<String> snapshots = new ArrayList<>();
        Path snapDir = dir.resolve("snapshots");
        if (Files.isDirectory(snapDir)) {
            try (Stream<Path> list = Files.list(snapDir)) {
                list.map(p -> p.getFileName().toString()).sorted().forEach(snapshots::add);
            }
        }
        return new Entry(repo, dir, bytes, blobs, incomplete, refs, List.copyOf(snapshots));
    }

    private static String readQuietly(Path ref) {
        try {
            return HubResponses.clean(new String(Files.readAllBytes(ref), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return "(unreadable)";
        }
    }
}
