package bertj.loader.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.Checkpoint;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.hub.HubResponses.FileMetadata;
import bertj.loader.hub.HubResponses.Head;
import bertj.loader.hub.HubResponses.Headers;
import bertj.loader.hub.HubResponses.Target;
import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of what the Hub client reads from the network and from a model: the answer to a HEAD or GET (status line
 * and headers), and the JSON that decides which files to fetch (the shard index, modules.json) with the cache's
 * refs file. Each input ends in a result or a documented exception with a message; a result never names a file
 * outside the cache or the snapshot.
 */
class HubFuzzTest {
    private static final URI URL = URI.create("https://huggingface.co/org/m/resolve/main/model.safetensors");
    private static final Target TARGET = new Target("org/m", "main", "model.safetensors", URI.create("https://huggingface.co"), true);
    private static final Pattern STATUS = Pattern.compile("^(?:HTTP/\\S*\\s+)?(\\d{1,3})(?!\\d)");
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final String SHA = "4b4c3b3c3d3e3f40414243444546474849505152535455565758596061626364";

    private FuzzHarness.Scratch scratch;
    private Path tmp;

    @BeforeEach
    void createScratch() throws IOException {
        scratch = FuzzHarness.scratch();
        tmp = scratch.dir();
    }

    @AfterEach
    void deleteScratch() throws IOException {
        scratch.close();
    }

    @Test
    void responseHeaders() {
        List<byte[]> seeds = List.of(
                response("HTTP/1.1 200 OK", "X-Repo-Commit: " + COMMIT, "ETag: \"a0b1c2d3\"", "Content-Length: 612"),
                response("HTTP/1.1 302 Found", "X-Repo-Commit: " + COMMIT, "ETag: W/\"e5f6\"", "X-Linked-Etag: \"" + SHA + "\"",
                        "X-Linked-Size: 90868376", "Content-Length: 1134", "Location: https://cdn-lfs.hf.co/repos/ab/" + SHA + "?X-Amz=1"),
                response("HTTP/1.1 307 Temporary Redirect", "Location: /google-bert/bert-base-uncased/resolve/main/config.json"),
                response("HTTP/1.1 404 Not Found", "X-Error-Code: EntryNotFound", "X-Repo-Commit: " + COMMIT,
                        "X-Error-Message: Entry not found"),
                response("HTTP/1.1 401 Unauthorized", "X-Error-Code: GatedRepo", "X-Error-Message: Access to model org/m is restricted."),
                response("HTTP/1.1 206 Partial Content", "Content-Range: bytes 100-999/1000", "Content-Length: 900"),
                response("HTTP/1.1 503 Service Unavailable"));
        FuzzMutator m = new FuzzMutator(List.of("X-Repo-Commit", "ETag", "X-Linked-Etag", "X-Linked-Size", "Content-Length",
                "Location", "X-Error-Code", "X-Error-Message", "Content-Range", "RepoNotFound", "RevisionNotFound",
                "EntryNotFound", "GatedRepo", "W/", "\"", COMMIT, SHA, "bytes 0-0/1", "bytes */1", "//evil.example/x",
                "/relative/path", "https://cdn.example/x", "../../blobs", "HTTP/1.1 302", "HTTP/1.1 200", ": "));
        FuzzHarness.run("hub-headers", seeds, m::lines, input -> {
            int status = status(input);
            Headers headers = headers(input);
            // the redirect and Content-Range readings are checked on every input; the metadata's outcome is the input's
            try {
                URI next = HubResponses.redirect(URL, status, headers, TARGET);
                if (next != null) assertTrue(next.getScheme().equalsIgnoreCase("http") || next.getScheme().equalsIgnoreCase("https"), next.toString());
            } catch (HubException e) {
                assertMessage(e);
            }
            try {
                assertEquals(100, HubHttp.rangeStart(headers, 100, TARGET));
            } catch (HubException e) {
                assertMessage(e);
            }
            Head head = HubResponses.metadata(URL, status, headers, TARGET);
            if (head instanceof FileMetadata meta) checkMetadata(meta);
        }, t -> t instanceof HubException).assertNoFailures();
    }

    private static void assertMessage(HubException e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank() && e.getMessage().length() < 2000, String.valueOf(e.getMessage()));
    }

    /** A file's metadata names a blob inside blobs/ and a location the client can ask. */
    private void checkMetadata(FileMetadata meta) {
        assertTrue(ModelName.COMMIT.matcher(meta.commit()).matches(), meta.commit());
        assertTrue(meta.size() >= 0);
        HubCache cache = new HubCache(tmp);
        ModelName model = ModelName.parse("org/m");
        Path blobs = cache.modelDir(model).resolve("blobs");
        Path blob = cache.blob(model, meta.etag()).normalize();
        assertEquals(blobs, blob.getParent(), "etag " + meta.etag());
        String scheme = meta.location().getScheme();
        assertTrue(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"), meta.location().toString());
    }

    @Test
    void filesThatChooseTheDownloads() throws IOException {
        byte[] index = """
                {"metadata": {"total_size": 16}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""".getBytes(StandardCharsets.UTF_8);
        byte[] modules = """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"""
                .getBytes(StandardCharsets.UTF_8);
        byte[] seed = FuzzMutator.join(List.of(index, modules, COMMIT.getBytes(StandardCharsets.UTF_8)));
        FuzzMutator m = new FuzzMutator(List.of("weight_map", "metadata", "total_size", "path", "type", "idx",
                "sentence_transformers.models.Pooling", "sentence_transformers.models.Dense", "1_Pooling", "1_Pooling/",
                "../1_Pooling", "/etc", "a/../../b", "a//b", "\\\\", "model.safetensors", "../model.safetensors", COMMIT, "main"));
        Path dir = Files.createDirectories(tmp.resolve("snapshot"));
        Path indexFile = dir.resolve(Checkpoint.INDEX_FILE), modulesFile = dir.resolve("modules.json");
        HubCache cache = new HubCache(tmp.resolve("cache"));
        ModelName model = ModelName.parse("org/m");
        Path ref = tmp.resolve("cache/models--org--m/refs/main");
        Files.createDirectories(ref.getParent());
        FuzzHarness.run("hub-json", List.of(seed), FuzzMutator.perPart(List.of(m::json, m::json, m::lines)), input -> {
            List<byte[]> parts = new ArrayList<>(FuzzMutator.split(input));
            while (parts.size() < 3) parts.add(new byte[0]);
            Files.write(indexFile, parts.get(0));
            Files.write(modulesFile, parts.get(1));
            Files.write(ref, parts.get(2));
            RuntimeException first = null;
            try {
                for (String shard : Checkpoint.shardFiles(indexFile)) inside(dir, Hub.repoPath(shard, indexFile));
            } catch (ModelFormatException e) {
                first = e;
            }
            try {
                for (String file : ModelDirectory.pipelineFiles(modulesFile)) inside(dir, Hub.repoPath(file, modulesFile));
            } catch (ModelFormatException e) {
                if (first == null) first = e;
            }
            try {
                cache.commit(model).ifPresent(c -> assertTrue(ModelName.COMMIT.matcher(c).matches(), c));
            } catch (HubException e) {
                if (first == null) first = e;
            }
            if (first != null) throw first;
        }, documented()).assertNoFailures();
    }

    private static Predicate<Throwable> documented() {
        return t -> t instanceof ModelFormatException || t instanceof HubException;
    }

    private static void inside(Path dir, String file) {
        Path p = dir.resolve(file).normalize();
        assertTrue(p.startsWith(dir) && !p.equals(dir), file + " leaves the snapshot");
    }

    private static byte[] response(String... lines) {
        return (String.join("\r\n", lines) + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The status line's code, as the HTTP client hands it over (0 when there is none). */
    private static int status(byte[] input) {
        String first = new String(input, StandardCharsets.UTF_8).lines().findFirst().orElse("");
        Matcher matcher = STATUS.matcher(first);
        return matcher.find() ? Integer.parseInt(matcher.group(1)) : 0;
    }

    /** The header lines, as the HTTP client hands them over: a name, a colon, a value; repeated names keep their order. */
    private static Headers headers(byte[] input) {
        Map<String, List<String>> fields = new LinkedHashMap<>();
        List<String> lines = new String(input, StandardCharsets.UTF_8).lines().toList();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            fields.computeIfAbsent(line.substring(0, colon).strip(), k -> new ArrayList<>()).add(line.substring(colon + 1).strip());
        }
        return new Headers(fields);
    }
}
