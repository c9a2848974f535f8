package bertj.loader.hub;

import bertj.loader.Checkpoint;
import bertj.loader.DefaultModel;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.hub.HubException.Reason;
import bertj.loader.hub.HubResponses.FileMetadata;
import bertj.loader.hub.HubResponses.Head;
import bertj.loader.hub.HubResponses.Missing;
import bertj.loader.hub.HubResponses.Target;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Models by name from the Hugging Face Hub, into the cache that {@code huggingface_hub} and {@code transformers}
 * share (see {@link HubCache} for its layout and {@link HubSettings} for the environment variables).
 *
 * <p>{@link #snapshot} fetches what a BERT model needs and nothing else: {@code config.json}; the weights
 * ({@code model.safetensors}, or {@code model.safetensors.index.json} and its shards); the tokenizer files; and a
 * sentence-transformers pipeline's {@code modules.json}, {@code sentence_bert_config.json} and Pooling config. The
 * revision is resolved to a commit by the first request and every other file is fetched at that commit; files
 * already in that commit's snapshot, or marked absent, cost no request.
 *
 * <p>Each file streams into {@code blobs/{etag}.incomplete}, resumed with a Range request after a dropped
 * connection or in a later run; is checked against its announced size, and an LFS file against the sha256 its
 * etag is; and is renamed into place in one step, under a lock file that other processes respect. Offline
 * ({@code HF_HUB_OFFLINE=1}, or the Hub unreachable), the cache answers alone.
 */
public final class Hub {
    static final String CONFIG = ModelDirectory.CONFIG;
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.txt", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json");
    static final String MODULES = "modules.json", SENTENCE_BERT_CONFIG = "sentence_bert_config.json";
    static final String PYTORCH_WEIGHTS = "pytorch_model.bin";
    private static final long MAX_RETRY_DELAY_MILLIS = 10_000;

    private final HubSettings settings;
    private final HubCache cache;
    private final HubHttp http;
    private final DownloadProgress progress;

    public Hub(HubSettings settings, DownloadProgress progress) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.http = new HubHttp(settings);
        this.progress = progress;
    }

    /** The environment's settings, with progress on standard error. */
    public static Hub fromEnvironment() {
        return new Hub(HubSettings.fromEnvironment(), DownloadProgress.toStandardError());
    }

    /**
     * A model given as {@code default} (the {@link DefaultModel}, converted on first use), a local directory (which
     * wins over a Hub name when it exists) or a Hub name, {@code org/name[@revision]}, fetched as the environment says.
     *
     * @throws ModelFormatException if {@code model} is neither an existing path nor a model name
     * @throws HubException if the model cannot be fetched
     */
    public static Path locate(String model) {
        if (model.equals(DefaultModel.WORD)) return DefaultModel.ensureConverted();
        Path local = existingPath(model);
        return local != null ? local : fromEnvironment().find(model);
    }

    /** As {@link #locate(String)}, with this Hub's settings. */
    public Path find(String model) {
        Path local = existingPath(model);
        if (local != null) return local;
        ModelName name;
        try {
            name = ModelName.parse(model);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(model + ": no such model directory, and not a Hugging Face model name: " + e.getMessage());
        }
        try {
            return snapshot(name);
        } catch (HubException e) {
            if (e.reason() != Reason.REPO_NOT_FOUND) throw e;
            throw new HubException(e.reason(), model + " is not a local directory, and " + e.getMessage(), e);
        }
    }

    public HubSettings settings() {
        return settings;
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * Fetches what is missing of the model's files and returns its snapshot directory, {@code snapshots/{commit}}.
     *
     * @throws HubException if a needed file cannot be fetched or found in the cache
     * @throws ModelFormatException if the model's index or modules.json is malformed
     */
    public Path snapshot(ModelName model) {
        try {
            return new Fetch(model).run();
        } catch (HubException e) {
            String message = redact(e.getMessage());
            throw message.equals(e.getMessage()) ? e : new HubException(e.reason(), message);
        }
    }

    private static Path existingPath(String model) {
        if (model.isBlank()) throw new IllegalArgumentException("model is empty: give a model directory or a Hugging Face model name");
        try {
            Path p = Path.of(model);
            return Files.exists(p) ? p : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** A message with the token, should a server have echoed it, blotted out. */
    private String redact(String message) {
        return settings.hasToken() && message != null ? message.replace(settings.token(), "[token]") : message;
    }

    /** One model's files, fetched at one commit. */
    private final class Fetch {
        private final ModelName model;
        private String commit;
        /** Why only the cache is asked, once it is; null while online. */
        private String offline;

        Fetch(ModelName model) {
            this.model = model;
            if (settings.offline()) offline = "HF_HUB_OFFLINE is set";
            if (model.pinned()) commit = model.revision();
        }

        Path run() {
            file(CONFIG, true);
            weights();
            for (String f : TOKENIZER_FILES) file(f, false);
            Optional<Path> modules = file(MODULES, false);
            if (modules.isPresent()) {
                file(SENTENCE_BERT_CONFIG, false);
                for (String f : ModelDirectory.pipelineFiles(modules.get())) file(repoPath(f, modules.get()), false);
            }
            return cache.snapshot(model, commit);
        }

        private void weights() {
            if (file(Checkpoint.SINGLE_FILE, false).isPresent()) return;
            Optional<Path> index = file(Checkpoint.INDEX_FILE, false);
            if (index.isPresent()) {
                for (String shard : Checkpoint.shardFiles(index.get())) file(repoPath(shard, index.get()), true);
                return;
            }
            if (offline != null) {
                throw new HubException(Reason.NOT_CACHED, offline + ", and the cached snapshot " + commit + " of " + model
                        + " has neither " + Checkpoint.SINGLE_FILE + " nor " + Checkpoint.INDEX_FILE);
            }
            boolean pytorch = head(PYTORCH_WEIGHTS) instanceof FileMetadata;
            throw new HubException(Reason.NO_SAFETENSORS, model + " has no " + Checkpoint.SINGLE_FILE + " or "
                    + Checkpoint.INDEX_FILE + (pytorch ? ", only " + PYTORCH_WEIGHTS + ", which bertj does not read" : "")
                    + ". Use a revision with safetensors (the Hub's conversion bot often offers one as a pull request:"
                    + " " + model.repo() + "@refs/pr/N), or convert it with transformers:"
                    + " AutoModel.from_pretrained(\"" + model.repo() + "\").save_pretrained(DIR, safe_serialization=True),"
                    + " and give bertj DIR");
        }

        /** The file in the snapshot, fetched first if needed; empty when the model has no such file. */
        private Optional<Path> file(String file, boolean required) {
            if (commit != null) {
                Path pointer = cache.snapshotFile(model, commit, file);
                if (Files.exists(pointer)) return Optional.of(pointer);
                if (cache.markedMissing(model, commit, file)) return absent(file, required, "the cache marks it absent");
            }
            if (offline != null) return fromCache(file, required);
            Head head;
            try {
                head = head(file);
            } catch (HubException e) {
                if (e.reason() != Reason.NETWORK) throw e;
                goOffline(e);
                return file(file, required);
            }
            if (head instanceof Missing missing) {
                String at = commit != null ? commit : missing.commit();
                if (at != null) {
                    accept(at);
                    cache.markMissing(model, at, file);
                }
                return absent(file, required, "no such file on " + settings.endpoint());
            }
            FileMetadata meta = (FileMetadata) head;
            accept(meta.commit());
            return Optional.of(fetch(file, meta));
        }

        private Optional<Path> fromCache(String file, boolean required) {
            if (commit == null) commit = cachedCommit();
            Path pointer = cache.snapshotFile(model, commit, file);
            if (Files.exists(pointer)) return Optional.of(pointer);
            if (!required) return Optional.empty();
            throw new HubException(Reason.NOT_CACHED, offline + ", and the cached snapshot " + commit + " of " + model
                    + " has no " + file + " (" + pointer + ")");
        }

        private Optional<Path> absent(String file, boolean required, String why) {
            if (!required) return Optional.empty();
            throw new HubException(Reason.ENTRY_NOT_FOUND, model + (commit != null && !model.pinned() ? " (commit " + commit + ")" : "")
                    + " has no " + file + ": " + why);
        }

        private String cachedCommit() {
            return cache.commit(model).orElseThrow(() -> new HubException(Reason.NOT_CACHED, offline + ", and "
                    + model + " is not in the cache " + cache.root() + " (no " + cache.ref(model) + "); fetch it once"
                    + " online, e.g. with `bertj download " + model + "`"));
        }

        /** From now on, the cache only: said once, if the cache has the model at all. */
        private void goOffline(HubException e) {
            offline = e.getMessage();
            if (commit == null) commit = cachedCommit();
            progress.warn(redact(offline) + "; answering from the cache " + cache.root());
        }

        /** The revision's commit, from the first answer; every later file is asked for at it. */
        private void accept(String resolved) {
            if (commit == null) {
                commit = resolved;
                cache.writeRef(model, resolved);
            } else if (!commit.equals(resolved)) {
                throw HubResponses.protocol(target("?"), "one file was resolved at commit " + commit + ", another at " + resolved);
            }
        }

        /** HEAD of the file at the revision (the commit once known), tried again after server errors. */
        private Head head(String file) {
            Target target = target(file);
            URI url = resolveUrl(file);
            for (int attempt = 1; ; attempt++) {
                try {
                    return http.head(url, target);
                } catch (HubException e) {
                    if (e.reason() != Reason.SERVER || attempt >= settings.attempts()) throw e;
                    pause(attempt, target);
                }
            }
        }

        private URI resolveUrl(String file) {
            String revision = commit != null ? commit : model.revision();
            return URI.create(settings.endpoint() + "/" + model.repo() + "/resolve/" + encode(revision, false) + "/" + encode(file, true));
        }

        private Target target(String file) {
            return new Target(model.repo(), commit != null ? commit : model.revision(), file, settings.endpoint(), settings.hasToken());
        }

        /** The blob for the metadata, downloaded under its lock unless present, linked into the snapshot. */
        private Path fetch(String file, FileMetadata meta) {
            Path blob = cache.blob(model, meta.etag());
            if (!Files.exists(blob)) {
                Path lockFile = cache.lock(model, meta.etag());
                try (CacheLock lock = CacheLock.acquire(lockFile, () -> progress.warn("waiting for another download of "
                        + model + " " + file + " to finish (lock " + lockFile + ")"))) {
                    if (!Files.exists(blob)) download(file, meta, blob);
                } catch (IOException e) {
                    throw HubCache.cacheError(lockFile, "cannot lock", e);
                }
            }
            return cache.link(model, meta.commit(), file, meta.etag());
        }

        private void download(String file, FileMetadata meta, Path blob) {
            Path part = cache.incomplete(model, meta.etag());
            Target target = target(file);
            try {
                Files.createDirectories(part.getParent());
            } catch (IOException e) {
                throw HubCache.cacheError(part.getParent(), "cannot create", e);
            }
            HubException last = null;
            for (int attempt = 1; attempt <= settings.attempts(); attempt++) {
                if (attempt > 1) pause(attempt - 1, target);
                try (FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    transfer(file, meta, channel, target);
                    channel.force(true);
                } catch (IOException e) {
                    last = new HubException(Reason.NETWORK, target.where() + ": download failed after " + attempt
                            + " attempt(s): " + HubHttp.describe(e) + " (" + part + " is kept and resumed next time)", e);
                    continue;
                } catch (HubException e) {
                    if (e.reason() == Reason.CHECKSUM) deleteQuietly(part); // a later run must not resume or trust it
                    if (!e.transientFailure()) throw e;
                    last = e;
                    continue;
                }
                try {
                    HubCache.moveAtomically(part, blob);
                } catch (IOException e) {
                    throw HubCache.cacheError(blob, "cannot rename the finished download into place", e);
                }
                progress.finished(file, meta.size());
                return;
            }
            throw last;
        }

        /** Completes the partial file from where it stops, then checks its size and, for LFS files, its sha256. */
        private void transfer(String file, FileMetadata meta, FileChannel channel, Target target) throws IOException {
            long have = channel.size();
            if (have > meta.size()) {
                channel.truncate(0);
                have = 0;
            }
            MessageDigest sha256 = meta.lfs() ? sha256(channel, have) : null;
            if (have < meta.size()) {
                progress.update(file, have, meta.size());
                channel.position(have);
                long start = have;
                http.get(meta.location(), have, new HubHttp.Sink() {
                    private long done = start;

                    @Override
                    public void begin(long offset) throws IOException {
                        if (offset == done) return;
                        channel.truncate(0); // the whole file came instead of the rest
                        channel.position(0);
                        if (sha256 != null) sha256.reset();
                        done = 0;
                    }

                    @Override
                    public void write(byte[] buffer, int length) throws IOException {
                        if (done + length > meta.size()) {
                            throw new HubException(Reason.CHECKSUM, target.where() + ": the server sent more than the "
                                    + meta.size() + " bytes it announced; the download was discarded, try again");
                        }
                        ByteBuffer b = ByteBuffer.wrap(buffer, 0, length);
                        while (b.hasRemaining()) channel.write(b);
                        if (sha256 != null) sha256.update(buffer, 0, length);
                        done += length;
                        progress.update(file, done, meta.size());
                    }
                }, target);
            }
            long got = channel.size();
            if (got < meta.size()) throw new IOException("the connection closed after " + got + " of " + meta.size() + " bytes");
            if (sha256 != null) {
                String actual = HexFormat.of().formatHex(sha256.digest());
                if (!actual.equals(meta.etag())) {
                    throw new HubException(Reason.CHECKSUM, target.where() + ": the download's sha256 is " + actual
                            + ", not " + meta.etag() + " as the Hub announced; it was discarded, try again");
                }
            }
        }

        private void pause(int attempt, Target target) {
            long millis = Math.min(MAX_RETRY_DELAY_MILLIS, settings.retryDelay().toMillis() << Math.min(attempt - 1, 20));
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(Reason.NETWORK, target.where() + ": interrupted", e);
            }
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // the checksum error that follows says to try again; the next download truncates it
        }
    }

    /** The sha256 of the first {@code length} bytes already in the partial file. */
    private static MessageDigest sha256(FileChannel channel, long length) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        for (long at = 0; at < length; ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - at));
            int n = channel.read(buffer, at);
            if (n < 0) break;
            digest.update(buffer.array(), 0, n);
            at += n;
        }
        return digest;
    }

    /**
     * A file path from a model's index or modules.json, checked to stay inside the snapshot.
     *
     * @throws ModelFormatException naming {@code source} if it does not
     */
    static String repoPath(String path, Path source) {
        boolean ok = !path.isEmpty() && path.length() <= 1000 && !path.startsWith("/") && path.indexOf('\\') < 0
                && path.chars().noneMatch(Character::isISOControl);
        if (ok) {
            for (String part : path.split("/", -1)) ok &= !part.isEmpty() && !part.equals(".") && !part.equals("..");
        }
        if (ok) {
            try {
                Path.of(path); // a name this file system can hold (no lone surrogate, encodable)
            } catch (InvalidPathException e) {
                ok = false;
            }
        }
        if (!ok) {
            throw new ModelFormatException(source + ": names the file \"" + HubResponses.clean(path)
                    + "\", which is not a path inside the model");
        }
        return path;
    }

    /** Percent-encoding as Python's quote: unreserved characters stay, and '/' too for a path. */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || "_.-~".indexOf(c) >= 0 || keepSlash && c == '/')) sb.append(c);
            else sb.append('%').append(String.format("%02X", b & 0xFF));
        }
        return sb.toString();
    }
}
