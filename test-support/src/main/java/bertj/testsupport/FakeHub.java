package bertj.testsupport;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A Hugging Face Hub for tests, on the JDK's HTTP server at 127.0.0.1, with a second server on another port as
 * the CDN that LFS files redirect to. It answers {@code HEAD} and {@code GET /{repo}/resolve/{revision}/{file}}
 * with the real protocol's headers: {@code X-Repo-Commit}, the git blob id as {@code ETag} for plain files, and for
 * LFS files (weights) a 302 to the CDN with {@code X-Linked-Etag} (the sha256) and {@code X-Linked-Size}; errors
 * carry {@code X-Error-Code} (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo). Both servers honour
 * {@code Range}.
 *
 * <p>Faults are injected per file name: an error status, a connection dropped after some bytes, wrong bytes
 * (a sha256 mismatch), a slow or stalled body, a redirect of a plain file to the CDN host, a server that ignores
 * Range. Every request is logged with its host, method, path, Range and Authorization header.
 */
public final class FakeHub implements AutoCloseable {
    public static final String HUB = "hub", CDN = "cdn";
    private static final int CHUNK = 8192;

    private final HttpServer hub, cdn;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final Map<String, byte[]> lfsBlobs = new ConcurrentHashMap<>();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger commits = new AtomicInteger();

    /** One request as the servers saw it; {@code authorization} is the header's value or null. */
    public record Request(String host, String method, String path, String range, String authorization) {
    }

    private FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", ex -> reportingBugs(ex, this::hub));
        cdn.createContext("/", ex -> reportingBugs(ex, this::cdn));
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    public static FakeHub start() throws IOException {
        return new FakeHub();
    }

    /** The base URL to give as HF_ENDPOINT. */
    public String endpoint() {
        return "http://" + hub.getAddress().getAddress().getHostAddress() + ":" + hub.getAddress().getPort();
    }

    public String cdnEndpoint() {
        return "http://" + cdn.getAddress().getAddress().getHostAddress() + ":" + cdn.getAddress().getPort();
    }

    /** The repository {@code id}, created empty on first use. */
    public Repo repo(String id) {
        return repos.computeIfAbsent(id, Repo::new);
    }

    /** Requests for {@code oldId} get a relative redirect to {@code newId}, as the Hub does for renamed models. */
    public void rename(String oldId, String newId) {
        renamed.put(oldId, newId);
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Requests to {@code host} with {@code method} whose path ends with {@code pathSuffix}. */
    public long count(String host, String method, String pathSuffix) {
        return requests.stream().filter(r -> r.host().equals(host) && r.method().equals(method) && r.path().endsWith(pathSuffix)).count();
    }

    public void clearRequests() {
        requests.clear();
    }

    // ------------------------------------------------------------------ faults

    private enum Kind { STATUS, DROP, CORRUPT, SLOW, STALL, REDIRECT_ELSEWHERE, IGNORE_RANGE }

    private static final class Fault {
        final String file;
        final Kind kind;
        final long value, millis;
        final AtomicInteger remaining;

        Fault(String file, Kind kind, long value, long millis, int times) {
            this.file = file;
            this.kind = kind;
            this.value = value;
            this.millis = millis;
            this.remaining = new AtomicInteger(times);
        }
    }

    /** The next {@code times} metadata or download requests for {@code file} get HTTP {@code status}. */
    public void failWith(String file, int status, int times) {
        faults.add(new Fault(file, Kind.STATUS, status, 0, times));
    }

    /** The next {@code times} bodies of {@code file} stop after {@code bytes} bytes, the connection closed. */
    public void dropAfter(String file, long bytes, int times) {
        faults.add(new Fault(file, Kind.DROP, bytes, 0, times));
    }

    /** Every body of {@code file} has one byte changed: the announced size, a different sha256. */
    public void corrupt(String file) {
        faults.add(new Fault(file, Kind.CORRUPT, 0, 0, Integer.MAX_VALUE));
    }

    /** Bodies of {@code file} come {@code chunkBytes} at a time, {@code millis} apart. */
    public void slow(String file, int chunkBytes, long millis) {
        faults.add(new Fault(file, Kind.SLOW, chunkBytes, millis, Integer.MAX_VALUE));
    }

    /** The next {@code times} bodies of {@code file} pause for {@code millis} after {@code bytes} bytes. */
    public void stall(String file, long bytes, long millis, int times) {
        faults.add(new Fault(file, Kind.STALL, bytes, millis, times));
    }

    /** The plain (non-LFS) {@code file} redirects to the CDN host, as a foreign host the token must not reach. */
    public void redirectElsewhere(String file) {
        faults.add(new Fault(file, Kind.REDIRECT_ELSEWHERE, 0, 0, Integer.MAX_VALUE));
    }

    /** Range requests for {@code file} get the whole body with HTTP 200. */
    public void ignoreRange(String file) {
        faults.add(new Fault(file, Kind.IGNORE_RANGE, 0, 0, Integer.MAX_VALUE));
    }

    /** Takes one use of the first live fault of {@code kind} for {@code file}. */
    private Fault take(String file, Kind kind) {
        for (Fault f : faults) {
            if (f.kind == kind && f.file.equals(file) && f.remaining.getAndUpdate(n -> Math.max(0, n - 1)) > 0) return f;
        }
        return null;
    }

    // ------------------------------------------------------------------ repositories

    /** A model repository: commits of whole file trees, branches and tags, and who may read it. */
    public final class Repo {
        private final String id;
        private final Map<String, Map<String, byte[]>> trees = new ConcurrentHashMap<>();
        private final Map<String, String> refs = new ConcurrentHashMap<>();
        private volatile Set<String> gatedTokens, privateTokens;

        private Repo(String id) {
            this.id = id;
        }

        /** Commits {@code files} (path to content) as the whole tree of {@code branch}; returns the commit hash. */
        public String commit(String branch, Map<String, byte[]> files) {
            Map<String, byte[]> tree = new TreeMap<>(files);
            MessageDigest sha1 = digest("SHA-1");
            sha1.update((id + "\n" + branch + "\n" + commits.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
            tree.forEach((path, content) -> {
                sha1.update(path.getBytes(StandardCharsets.UTF_8));
                sha1.update(content);
                if (lfs(path)) lfsBlobs.put(sha256(content), content);
            });
            String commit = HexFormat.of().formatHex(sha1.digest());
            trees.put(commit, tree);
            refs.put(branch, commit);
            return commit;
        }

        /** Commits every file under {@code dir} (relative paths with '/'). */
        public String commit(String branch, Path dir) throws IOException {
            return commit(branch, files(dir));
        }

        public void tag(String name, String commit) {
            refs.put(name, commit);
        }

        /** Gated: without a token 401, with a token not in {@code allowed} 403, both with X-Error-Code GatedRepo. */
        public Repo gated(String... allowed) {
            gatedTokens = Set.of(allowed);
            return this;
        }

        /** Private: looks missing to any token but {@code allowed}. */
        public Repo privateTo(String... allowed) {
            privateTokens = Set.of(allowed);
            return this;
        }

        public String head(String branch) {
            return refs.get(branch);
        }
    }

    /** Files stored in Git LFS on the Hub: weights, as .gitattributes has them by default. */
    public static boolean lfs(String path) {
        return path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".onnx") || path.endsWith(".h5");
    }

    /** The git blob id of a file: the ETag the Hub gives plain files. */
    public static String gitBlobId(byte[] content) {
        MessageDigest sha1 = digest("SHA-1");
        sha1.update(("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha1.digest(content));
    }

    public static String sha256(byte[] content) {
        return HexFormat.of().formatHex(digest("SHA-256").digest(content));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ the two servers

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            String raw = ex.getRequestURI().getRawPath();
            log(HUB, ex, decode(raw));
            List<String> parts = Arrays.asList(raw.substring(1).split("/", -1));
            int resolve = parts.indexOf("resolve");
            if (resolve < 1 || resolve > 2 || parts.size() < resolve + 3) {
                send(ex, 404, Map.of("X-Error-Code", "RepoNotFound"));
                return;
            }
            String repoId = String.join("/", parts.subList(0, resolve));
            String rawRevision = parts.get(resolve + 1);
            String rawFile = String.join("/", parts.subList(resolve + 2, parts.size()));
            if (renamed.containsKey(repoId)) {
                send(ex, 307, Map.of("Location", "/" + renamed.get(repoId) + "/resolve/" + rawRevision + "/" + rawFile));
                return;
            }
            String token = bearer(ex.getRequestHeaders());
            Repo repo = repos.get(repoId);
            if (repo == null || repo.privateTokens != null && (token == null || !repo.privateTokens.contains(token))) {
                send(ex, token == null ? 401 : 404, Map.of("X-Error-Code", "RepoNotFound",
                        "X-Error-Message", "Repository not found"));
                return;
            }
            if (repo.gatedTokens != null && (token == null || !repo.gatedTokens.contains(token))) {
                send(ex, token == null ? 401 : 403, Map.of("X-Error-Code", "GatedRepo",
                        "X-Error-Message", "Access to model " + repoId + " is restricted."));
                return;
            }
            String revision = decode(rawRevision);
            String commit = repo.refs.getOrDefault(revision, repo.trees.containsKey(revision) ? revision : null);
            if (commit == null) {
                send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound", "X-Error-Message", "Invalid rev id: " + revision));
                return;
            }
            String file = decode(rawFile);
            byte[] content = repo.trees.get(commit).get(file);
            Fault status = take(file, Kind.STATUS);
            if (status != null) {
                send(ex, (int) status.value, Map.of("X-Error-Message", "injected fault"));
                return;
            }
            if (content == null) {
                send(ex, 404, Map.of("X-Error-Code", "EntryNotFound", "X-Repo-Commit", commit,
                        "X-Error-Message", file + " does not exist on \"" + revision + "\""));
                return;
            }
            Headers h = ex.getResponseHeaders();
            h.set("X-Repo-Commit", commit);
            boolean elsewhere = faults.stream().anyMatch(f -> f.kind == Kind.REDIRECT_ELSEWHERE && f.file.equals(file));
            if (lfs(file) || elsewhere) {
                String sha = lfs(file) ? sha256(content) : gitBlobId(content);
                h.set("ETag", "W/\"" + gitBlobId(("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha).getBytes(StandardCharsets.UTF_8)) + "\"");
                h.set("X-Linked-Etag", "\"" + sha + "\"");
                h.set("X-Linked-Size", Long.toString(content.length));
                String target = lfs(file) ? "/lfs/" + sha + "?X-Amz-Signature=fake" : "/raw/" + repoId + "/" + commit + "/" + rawFile;
                send(ex, 302, Map.of("Location", cdnEndpoint() + target, "Content-Length", "134"));
                return;
            }
            h.set("ETag", "\"" + gitBlobId(content) + "\"");
            body(ex, file, content);
        }
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            String path = decode(ex.getRequestURI().getRawPath());
            log(CDN, ex, path);
            byte[] content = null;
            String file = "";
            if (path.startsWith("/lfs/")) {
                content = lfsBlobs.get(path.substring(5));
                for (Repo repo : repos.values()) {
                    for (Map<String, byte[]> tree : repo.trees.values()) {
                        for (Map.Entry<String, byte[]> e : tree.entrySet()) {
                            if (e.getValue() == content) file = e.getKey();
                        }
                    }
                }
            } else if (path.startsWith("/raw/")) {
                // /raw/{repo}/{commit}/{file}: the repo id has one or two parts, the commit 40 hex digits
                String rest = path.substring(5);
                for (Repo repo : repos.values()) {
                    if (!rest.startsWith(repo.id + "/")) continue;
                    String[] commitAndFile = rest.substring(repo.id.length() + 1).split("/", 2);
                    Map<String, byte[]> tree = repo.trees.get(commitAndFile[0]);
                    if (tree != null && commitAndFile.length == 2) {
                        file = commitAndFile[1];
                        content = tree.get(file);
                    }
                }
            }
            if (content == null) {
                send(ex, 404, Map.of());
                return;
            }
            file = file.contains("/") ? file.substring(file.lastIndexOf('/') + 1) : file;
            Fault status = take(file, Kind.STATUS);
            if (status != null) {
                send(ex, (int) status.value, Map.of());
                return;
            }
            body(ex, file, content);
        }
    }

    /** The file's bytes (or the range asked for), with the faults injected for it. */
    private void body(HttpExchange ex, String file, byte[] content) throws IOException {
        String baseName = file.contains("/") ? file.substring(file.lastIndexOf('/') + 1) : file;
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        boolean ignoreRange = faults.stream().anyMatch(f -> f.kind == Kind.IGNORE_RANGE && f.file.equals(baseName));
        if (range != null && range.matches("bytes=\\d+-") && !ignoreRange) from = Long.parseLong(range.substring(6, range.length() - 1));
        if (from > content.length) {
            send(ex, 416, Map.of("Content-Range", "bytes */" + content.length));
            return;
        }
        Headers h = ex.getResponseHeaders();
        int code = 200;
        if (from > 0) {
            code = 206;
            h.set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        long length = content.length - from;
        if (ex.getRequestMethod().equals("HEAD")) {
            h.set("Content-Length", Long.toString(content.length));
            ex.sendResponseHeaders(code, -1);
            return;
        }
        byte[] bytes = Arrays.copyOfRange(content, (int) from, content.length);
        if (faults.stream().anyMatch(f -> f.kind == Kind.CORRUPT && f.file.equals(baseName)) && bytes.length > 0) {
            bytes[bytes.length / 2] ^= 0x55;
        }
        Fault drop = take(baseName, Kind.DROP);
        Fault stall = take(baseName, Kind.STALL);
        Fault slow = faults.stream().filter(f -> f.kind == Kind.SLOW && f.file.equals(baseName)).findFirst().orElse(null);
        ex.sendResponseHeaders(code, length == 0 ? -1 : length);
        if (length == 0) return;
        OutputStream out = ex.getResponseBody();
        int chunk = slow != null ? (int) slow.value : CHUNK;
        long sent = 0;
        boolean stalled = false;
        while (sent < bytes.length) {
            if (drop != null && from + sent >= drop.value) {
                out.flush();
                // a handler that throws has its connection closed by the server: the client sees it drop
                throw new IOException("fault injected: connection dropped after " + (from + sent) + " bytes");
            }
            if (stall != null && !stalled && from + sent >= stall.value) {
                stalled = true;
                out.flush();
                sleep(stall.millis);
            }
            int n = (int) Math.min(chunk, bytes.length - sent);
            if (drop != null) n = (int) Math.min(n, Math.max(1, drop.value - from - sent));
            if (stall != null && !stalled) n = (int) Math.min(n, Math.max(1, stall.value - from - sent));
            try {
                out.write(bytes, (int) sent, n);
                if (slow != null) {
                    out.flush();
                    sleep(slow.millis);
                }
            } catch (IOException e) {
                return; // the client went away (e.g. its read timed out)
            }
            sent += n;
        }
    }

    /** A bug in the fake itself would only look like a dropped connection: print it. */
    private static void reportingBugs(HttpExchange ex, com.sun.net.httpserver.HttpHandler handler) throws IOException {
        try {
            handler.handle(ex);
        } catch (RuntimeException e) {
            System.err.println("FakeHub bug on " + ex.getRequestMethod() + " " + ex.getRequestURI() + ":");
            e.printStackTrace();
            throw e;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, -1);
    }

    private void log(String host, HttpExchange ex, String path) {
        Headers h = ex.getRequestHeaders();
        requests.add(new Request(host, ex.getRequestMethod(), path, h.getFirst("Range"), h.getFirst("Authorization")));
    }

    private static String bearer(Headers h) {
        String auth = h.getFirst("Authorization");
        return auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
    }

    private static String decode(String raw) {
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Stops both servers and any handler still sleeping in a fault. */
    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }

    /** Every file of a directory tree, relative path to content, for {@link Repo#commit(String, Map)}. */
    public static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
            }
        }
        return files;
    }

    /** The files of a commit, for assertions. */
    public Map<String, byte[]> tree(String repo, String commit) {
        return repos.get(repo).trees.get(commit);
    }
}
