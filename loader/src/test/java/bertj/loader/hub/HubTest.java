package bertj.loader.hub;

import static bertj.loader.hub.HubFixtures.describe;
import static bertj.loader.hub.HubFixtures.etag;
import static bertj.loader.hub.HubFixtures.settings;
import static bertj.loader.hub.HubFixtures.tree;
import static bertj.loader.hub.HubFixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.PoolingConfig;
import bertj.loader.hub.HubException.Reason;
import bertj.testsupport.FakeHub;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Fetching models from a fake Hub into a cache laid out as huggingface_hub lays it out, and reading it back. */
class HubTest extends WithFakeHub {
    /** What bertj fetches of {@link HubFixtures#sentenceTransformersRepo()}, and what it learns is absent. */
    static final List<String> FETCHED = List.of("config.json", "model.safetensors", "tokenizer_config.json", "modules.json",
            "sentence_bert_config.json", "1_Pooling/config.json");
    static final List<String> ABSENT = List.of("tokenizer.json", "vocab.txt", "special_tokens_map.json", "added_tokens.json");


    @Test
    void writesTheCacheTreeExactlyAsHuggingFaceHubDoes() throws IOException {
        Map<String, byte[]> files = HubFixtures.sentenceTransformersRepo();
        String commit = hub.repo("org/tiny").commit("main", files);
        Path snapshot = new Hub(settings(hub, cache), DownloadProgress.SILENT).snapshot(ModelName.parse("org/tiny"));

        String m = "models--org--tiny";
        assertEquals(cache.resolve(m).resolve("snapshots").resolve(commit), snapshot);
        Map<String, String> expected = new TreeMap<>();
        for (String dir : List.of(".locks", ".locks/" + m, m, m + "/.no_exist", m + "/.no_exist/" + commit, m + "/blobs", m + "/refs",
                m + "/snapshots", m + "/snapshots/" + commit, m + "/snapshots/" + commit + "/1_Pooling")) {
            expected.put(dir, "dir");
        }
        for (String file : FETCHED) {
            byte[] content = files.get(file);
            String etag = etag(file, content);
            expected.put(m + "/blobs/" + etag, describe(content));
            expected.put(".locks/" + m + "/" + etag + ".lock", "file empty");
            expected.put(m + "/snapshots/" + commit + "/" + file, "-> " + "../".repeat(file.split("/").length + 1) + "blobs/" + etag);
        }
        for (String file : ABSENT) expected.put(m + "/.no_exist/" + commit + "/" + file, "file empty");
        expected.put(m + "/refs/main", describe(utf8(commit))); // the commit, with no newline
        assertEquals(expected, tree(cache));
        for (String file : FETCHED) assertArrayEquals(files.get(file), Files.readAllBytes(snapshot.resolve(file)), file);

        // neither the PyTorch weights, the ONNX export nor the README was asked for
        for (String other : List.of("pytorch_model.bin", "onnx/model.onnx", "README.md", "model.safetensors.index.json")) {
            assertEquals(0, hub.requests().stream().filter(r -> r.path().endsWith("/" + other)).count(), other);
        }
        try (ModelDirectory dir = ModelDirectory.open(snapshot)) {
            assertEquals(32, dir.config().hiddenSize());
            assertEquals(new PoolingConfig(PoolingConfig.Mode.MEAN, true), dir.pooling().orElseThrow());
            assertTrue(dir.bertCheckpoint().parameterCount() > 0);
        }
    }

    @Test
    void aCachedModelCostsOneRequestAndAPinnedOneNone() throws IOException {
        String commit = hub.repo("org/tiny").commit("main", HubFixtures.sentenceTransformersRepo());
        Hub client = new Hub(settings(hub, cache), DownloadProgress.SILENT);
        Path first = client.snapshot(ModelName.parse("org/tiny"));
        hub.clearRequests();

        assertEquals(first, client.snapshot(ModelName.parse("org/tiny")));
        assertEquals(List.of("HEAD /org/tiny/resolve/main/config.json"),
                hub.requests().stream().map(r -> r.method() + " " + r.path()).toList());
        hub.clearRequests();

        assertEquals(first, client.snapshot(ModelName.parse("org/tiny@" + commit)));
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void aNewCommitIsFetchedAndOnlyChangedFilesDownloaded() throws IOException {
        Map<String, byte[]> files = HubFixtures.sentenceTransformersRepo();
        hub.repo("org/tiny").commit("main", files);
        Hub client = new Hub(settings(hub, cache), DownloadProgress.SILENT);
        Path first = client.snapshot(ModelName.parse("org/tiny"));
        files.put("sentence_bert_config.json", utf8("{\"max_seq_length\": 32}"));
        String second = hub.repo("org/tiny").commit("main", files);
        hub.clearRequests();

        Path snapshot = client.snapshot(ModelName.parse("org/tiny"));
        assertEquals(second, snapshot.getFileName().toString());
        assertTrue(Files.isDirectory(first), "the old snapshot stays");
        assertEquals(second, Files.readString(cache.resolve("models--org--tiny/refs/main")));
        List<String> gets = hub.requests().stream().filter(r -> r.method().equals("GET")).map(r -> r.host() + " " + r.path()).toList();
        assertEquals(List.of("hub /org/tiny/resolve/" + second + "/sentence_bert_config.json"), gets);
        try (var blobs = Files.list(cache.resolve("models--org--tiny/blobs"))) {
            assertEquals(FETCHED.size() + 1, blobs.count(), "one file in two versions");
        }
    }

    @Test
    void offlineTheCacheAnswersAlone() throws IOException {
        hub.repo("org/tiny").commit("main", HubFixtures.sentenceTransformersRepo());
        Path online = new Hub(settings(hub, cache), DownloadProgress.SILENT).snapshot(ModelName.parse("org/tiny"));
        hub.clearRequests();

        Hub offline = new Hub(settings(hub, cache).withOffline(true), DownloadProgress.SILENT);
        assertEquals(online, offline.snapshot(ModelName.parse("org/tiny")));
        assertEquals(List.of(), hub.requests());

        HubException e = assertThrows(HubException.class, () -> offline.snapshot(ModelName.parse("org/other")));
        assertEquals(Reason.NOT_CACHED, e.reason());
        assertEquals("HF_HUB_OFFLINE is set, and org/other is not in the cache " + cache + " (no "
                + cache.resolve("models--org--other/refs/main") + "); fetch it once online, e.g. with `bertj download org/other`",
                e.getMessage());
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void withoutNetworkTheCacheAnswersWithAWarning() throws IOException {
        hub.repo("org/tiny").commit("main", HubFixtures.sentenceTransformersRepo());
        Path online = new Hub(settings(hub, cache), DownloadProgress.SILENT).snapshot(ModelName.parse("org/tiny"));
        HubSettings unreachable = settings(hub, cache);
        hub.close(); // nothing listens on its port any more

        HubFixtures.Recorder progress = new HubFixtures.Recorder();
        assertEquals(online, new Hub(unreachable, progress).snapshot(ModelName.parse("org/tiny")));
        assertEquals(1, progress.events().size(), progress.events().toString());
        assertTrue(progress.events().getFirst().startsWith("warn cannot reach " + hub.endpoint() + " for org/tiny@main: config.json: "),
                progress.events().toString());

        HubException e = assertThrows(HubException.class,
                () -> new Hub(unreachable, DownloadProgress.SILENT).snapshot(ModelName.parse("org/other")));
        assertEquals(Reason.NOT_CACHED, e.reason());
        assertTrue(e.getMessage().startsWith("cannot reach " + hub.endpoint() + " for org/other@main: config.json: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(", and org/other is not in the cache " + cache + " (no "
                + cache.resolve("models--org--other/refs/main") + "); fetch it once online, e.g. with `bertj download org/other`"),
                e.getMessage());
    }

    /** The layout huggingface_hub leaves, written by hand: relative links, a ref without newline, a .no_exist marker. */
    @Test
    void readsACacheThatHuggingFaceHubWrote() throws IOException {
        Map<String, byte[]> files = HubFixtures.sentenceTransformersRepo();
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = cache.resolve("models--sentence-transformers--tiny");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        Files.createDirectories(repo.resolve(".no_exist").resolve(commit));
        Files.createFile(repo.resolve(".no_exist").resolve(commit).resolve("tokenizer.json"));
        Files.createDirectories(repo.resolve("blobs"));
        for (String file : List.of("config.json", "model.safetensors", "tokenizer_config.json", "modules.json", "1_Pooling/config.json")) {
            String etag = etag(file, files.get(file));
            Files.write(repo.resolve("blobs").resolve(etag), files.get(file));
            Path link = repo.resolve("snapshots").resolve(commit).resolve(file);
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, Path.of("../".repeat(file.split("/").length + 1) + "blobs/" + etag));
        }
        Hub offline = new Hub(settings(hub, cache).withOffline(true), DownloadProgress.SILENT);
        Path snapshot = offline.snapshot(ModelName.parse("sentence-transformers/tiny"));
        assertEquals(repo.resolve("snapshots").resolve(commit), snapshot);
        try (ModelDirectory dir = ModelDirectory.open(snapshot)) {
            assertEquals(new PoolingConfig(PoolingConfig.Mode.MEAN, true), dir.pooling().orElseThrow());
            assertTrue(dir.bertCheckpoint().parameterCount() > 0);
            assertTrue(dir.tokenizerJson().isEmpty());
        }
        assertEquals(snapshot, offline.snapshot(ModelName.parse("sentence-transformers/tiny@" + commit)));
        assertEquals(List.of(), hub.requests());

        // online, the same commit: nothing to fetch but what the cache neither has nor marks absent
        hub.repo("sentence-transformers/tiny").commit("main", files);
        HubException e = assertThrows(HubException.class, () -> new Hub(settings(hub, cache), DownloadProgress.SILENT)
                .snapshot(ModelName.parse("sentence-transformers/tiny@" + commit)));
        assertEquals(Reason.REVISION_NOT_FOUND, e.reason(), "the fake Hub has another commit; only cached files were skipped");
        assertEquals(List.of("HEAD /sentence-transformers/tiny/resolve/" + commit + "/vocab.txt"),
                hub.requests().stream().map(r -> r.method() + " " + r.path()).toList());
    }

    @Test
    void fetchesEveryShardOfAnIndexedCheckpoint() throws IOException {
        Map<String, byte[]> files = FakeHub.files(HubFixtures.model("tiny-bert-bf16-sharded-legacy"));
        hub.repo("org/sharded").commit("main", files);
        Path snapshot = new Hub(settings(hub, cache), DownloadProgress.SILENT).snapshot(ModelName.parse("org/sharded"));
        for (String file : files.keySet()) assertArrayEquals(files.get(file), Files.readAllBytes(snapshot.resolve(file)), file);
        try (ModelDirectory dir = ModelDirectory.open(snapshot)) {
            assertEquals(2, dir.checkpoint().files().size());
        }
    }

    @Test
    void aRenamedModelIsFollowedAndCachedUnderTheNameGiven() throws IOException {
        String commit = hub.repo("google-bert/bert-tiny").commit("main", HubFixtures.smallRepo(5000, 1));
        hub.rename("bert-tiny", "google-bert/bert-tiny");
        Path snapshot = new Hub(settings(hub, cache), DownloadProgress.SILENT).snapshot(ModelName.parse("bert-tiny"));
        assertEquals(cache.resolve("models--bert-tiny/snapshots").resolve(commit), snapshot);
        assertEquals(commit, Files.readString(cache.resolve("models--bert-tiny/refs/main")));
        assertTrue(Files.isRegularFile(snapshot.resolve("model.safetensors")));
    }

    @Test
    void branchesTagsAndCommitsAreRevisions() throws IOException {
        FakeHub.Repo repo = hub.repo("org/tiny");
        String v1 = repo.commit("main", HubFixtures.smallRepo(3000, 1));
        repo.tag("v1.0", v1);
        String pr = repo.commit("refs/pr/1", HubFixtures.smallRepo(3000, 2));
        String main = repo.commit("main", HubFixtures.smallRepo(3000, 3));
        Hub client = new Hub(settings(hub, cache), DownloadProgress.SILENT);

        assertEquals(main, client.snapshot(ModelName.parse("org/tiny")).getFileName().toString());
        assertEquals(v1, client.snapshot(ModelName.parse("org/tiny@v1.0")).getFileName().toString());
        assertEquals(pr, client.snapshot(ModelName.parse("org/tiny@refs/pr/1")).getFileName().toString());
        assertEquals(v1, client.snapshot(ModelName.parse("org/tiny@" + v1)).getFileName().toString());
        assertTrue(hub.requests().stream().anyMatch(r -> r.path().equals("/org/tiny/resolve/refs/pr/1/config.json")));
        Map<String, String> refs = new TreeMap<>();
        for (String ref : List.of("main", "v1.0", "refs/pr/1")) {
            refs.put(ref, Files.readString(cache.resolve("models--org--tiny/refs").resolve(ref), StandardCharsets.UTF_8));
        }
        assertEquals(Map.of("main", main, "v1.0", v1, "refs/pr/1", pr), refs, "a commit revision writes no ref");
        assertEquals(List.of("main", "refs/pr/1", "v1.0"),
                List.copyOf(new HubCache(cache).list().getFirst().refs().keySet()));
    }

    @Test
    void anExistingLocalPathAlwaysWins() throws IOException {
        // src/test is a directory here (the module's) and a valid model name: the directory wins, the Hub is not asked
        Hub client = new Hub(settings(hub, cache), DownloadProgress.SILENT);
        assertEquals(Path.of("src/test"), client.find("src/test"));
        assertEquals(List.of(), hub.requests());

        HubException e = assertThrows(HubException.class, () -> client.find("models/missing"));
        assertEquals(Reason.REPO_NOT_FOUND, e.reason());
        assertTrue(e.getMessage().startsWith("models/missing is not a local directory, and " + hub.endpoint()
                + " has no model models/missing, or it is private and no token is set"), e.getMessage());
        ModelFormatException f = assertThrows(ModelFormatException.class, () -> client.find("/no/such/model"));
        assertTrue(f.getMessage().startsWith("/no/such/model: no such model directory, and not a Hugging Face model name: "),
                f.getMessage());
    }
}
