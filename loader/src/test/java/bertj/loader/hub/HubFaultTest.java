package bertj.loader.hub;

import static bertj.loader.hub.HubFixtures.settings;
import static bertj.loader.hub.HubFixtures.smallRepo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.hub.HubException.Reason;
import bertj.testsupport.FakeHub;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Hub's errors and a flaky network: each ends in the model, or in a clear error and a cache a later run trusts. */
class HubFaultTest extends WithFakeHub {
    static final String TOKEN = "hf_SecretTokenThatMustNeverBeShown";
    static final int SIZE = 300_000;


    private Path fetch(HubSettings settings, String model) {
        return new Hub(settings, DownloadProgress.SILENT).snapshot(ModelName.parse(model));
    }

    private HubException fails(HubSettings settings, String model) {
        return assertThrows(HubException.class, () -> fetch(settings, model));
    }

    private void assertSameFiles(Map<String, byte[]> files, Path snapshot) throws IOException {
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(snapshot.resolve(e.getKey())), e.getKey());
        }
    }

    /** Files under the cache whose name ends with {@code suffix}. */
    private List<Path> cached(String suffix) throws IOException {
        try (Stream<Path> walk = Files.walk(cache)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
        }
    }

    @Test
    void missingModelsRevisionsAndFilesAreNamed() {
        hub.repo("org/tiny").commit("main", smallRepo(1000, 1));
        hub.repo("org/no-config").commit("main", Map.of("model.safetensors", new byte[10]));
        HubSettings s = settings(hub, cache);

        HubException e = fails(s, "org/nothing");
        assertEquals(Reason.REPO_NOT_FOUND, e.reason());
        assertEquals(hub.endpoint() + " has no model org/nothing, or it is private and no token is set (HF_TOKEN, or a token"
                + " file from `hf auth login`) (HTTP 401) (the server says: Repository not found)", e.getMessage());
        e = fails(s.withToken(TOKEN), "org/nothing");
        assertEquals(hub.endpoint() + " has no model org/nothing, or it is private and the token given cannot see it (HTTP 404)"
                + " (the server says: Repository not found)", e.getMessage());

        e = fails(s, "org/tiny@v9");
        assertEquals(Reason.REVISION_NOT_FOUND, e.reason());
        assertEquals("org/tiny has no revision \"v9\" on " + hub.endpoint() + " (HTTP 404) (the server says: Invalid rev id: v9)",
                e.getMessage());

        e = fails(s, "org/no-config");
        assertEquals(Reason.ENTRY_NOT_FOUND, e.reason());
        assertEquals("org/no-config (commit " + hub.repo("org/no-config").head("main") + ") has no config.json: no such file on "
                + hub.endpoint(), e.getMessage());
    }

    @Test
    void aPyTorchOnlyModelIsExplainedWithoutDownloadingItsWeights() {
        hub.repo("org/old").commit("main", Map.of("config.json", "{}".getBytes(StandardCharsets.UTF_8),
                "pytorch_model.bin", new byte[50_000], "vocab.txt", "[PAD]\n".getBytes(StandardCharsets.UTF_8)));
        HubException e = fails(settings(hub, cache), "org/old");
        assertEquals(Reason.NO_SAFETENSORS, e.reason());
        assertTrue(e.getMessage().startsWith("org/old has no model.safetensors or model.safetensors.index.json, only"
                + " pytorch_model.bin, which bertj does not read. Use a revision with safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("save_pretrained(DIR, safe_serialization=True)"), e.getMessage());
        assertEquals(1, hub.count(FakeHub.HUB, "HEAD", "/pytorch_model.bin"));
        assertEquals(0, hub.count(FakeHub.HUB, "GET", "/pytorch_model.bin"));
        assertEquals(0, hub.requests().stream().filter(r -> r.host().equals(FakeHub.CDN)).count());
    }

    @Test
    void gatedModelsSayWhatToDoAndNeverShowTheToken() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 1);
        hub.repo("org/gated").gated(TOKEN).commit("main", files);
        HubSettings s = settings(hub, cache);

        HubException e = fails(s, "org/gated");
        assertEquals(Reason.GATED, e.reason());
        assertEquals("org/gated is a gated model: accept its conditions at " + hub.endpoint() + "/org/gated and use a token of"
                + " that account; no token is set (HF_TOKEN, or a token file from `hf auth login`) (HTTP 401) (the server says:"
                + " Access to model org/gated is restricted.)", e.getMessage());
        e = fails(s.withToken("hf_OtherAccount"), "org/gated");
        assertEquals(Reason.GATED, e.reason());
        assertTrue(e.getMessage().contains("the token given has no access (HTTP 403)"), e.getMessage());
        assertFalse(e.getMessage().contains("hf_OtherAccount"));

        assertSameFiles(files, fetch(s.withToken(TOKEN), "org/gated"));
        for (FakeHub.Request r : hub.requests()) {
            if (r.host().equals(FakeHub.CDN)) assertNull(r.authorization(), "the token went to the CDN: " + r);
        }
        assertTrue(hub.requests().stream().anyMatch(r -> ("Bearer " + TOKEN).equals(r.authorization())));
        assertFalse(s.withToken(TOKEN).toString().contains(TOKEN));
    }

    @Test
    void theTokenNeverFollowsARedirectToAnotherHost() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 2);
        hub.repo("org/private").privateTo(TOKEN).commit("main", files);
        hub.redirectElsewhere("config.json"); // a plain file, sent from another host
        assertSameFiles(files, fetch(settings(hub, cache).withToken(TOKEN), "org/private"));
        assertEquals(1, hub.count(FakeHub.CDN, "GET", "/config.json"));
        for (FakeHub.Request r : hub.requests()) {
            assertEquals(r.host().equals(FakeHub.HUB) ? "Bearer " + TOKEN : null, r.authorization(), r.toString());
        }
    }

    @Test
    void serverErrorsAreRetriedThenReported() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 3);
        hub.repo("org/tiny").commit("main", files);
        hub.failWith("config.json", 503, 2);
        hub.failWith("model.safetensors", 500, 2);
        assertSameFiles(files, fetch(settings(hub, cache), "org/tiny"));

        hub.repo("org/down").commit("main", smallRepo(1000, 4));
        hub.failWith("config.json", 500, 100);
        HubException e = fails(settings(hub, cache.resolve("other")), "org/down");
        assertEquals(Reason.SERVER, e.reason());
        assertEquals("org/down@main: config.json: " + hub.endpoint() + " answered HTTP 500 (the server says: injected fault)",
                e.getMessage());
    }

    @Test
    void aDroppedConnectionIsResumedWithRange() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 5);
        hub.repo("org/tiny").commit("main", files);
        hub.dropAfter("model.safetensors", 100_000, 1);
        assertSameFiles(files, fetch(settings(hub, cache), "org/tiny"));
        // the second request asks for the rest: from what arrived (the kernel may drop what was in flight at the close)
        List<String> ranges = cdnRanges();
        assertEquals(2, ranges.size(), ranges.toString());
        assertEquals("null", ranges.getFirst());
        long resumedAt = Long.parseLong(ranges.getLast().replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(resumedAt > 0 && resumedAt <= 100_000, ranges.toString());
        assertEquals(List.of(), cached(".incomplete"));
    }

    @Test
    void anInterruptedDownloadIsResumedByTheNextRun() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 6);
        hub.repo("org/tiny").commit("main", files);
        hub.dropAfter("model.safetensors", 120_000, 1);
        HubException e = fails(settings(hub, cache).withRetries(1, Duration.ZERO), "org/tiny");
        assertEquals(Reason.NETWORK, e.reason());
        assertTrue(e.getMessage().startsWith("org/tiny@" + hub.repo("org/tiny").head("main")
                + ": model.safetensors: download failed after 1 attempt(s): "), e.getMessage());
        List<Path> partial = cached(".incomplete");
        assertEquals(1, partial.size());
        long kept = Files.size(partial.getFirst());
        assertTrue(kept > 0 && kept <= 120_000, "kept " + kept);
        assertFalse(Files.exists(cache.resolve("models--org--tiny/snapshots").resolve(hub.repo("org/tiny").head("main"))
                .resolve("model.safetensors")), "no link to an unfinished blob");

        hub.clearRequests();
        assertSameFiles(files, fetch(settings(hub, cache), "org/tiny"));
        assertEquals(List.of("bytes=" + kept + "-"), cdnRanges());
        assertEquals(List.of(), cached(".incomplete"));
    }

    @Test
    void aServerThatIgnoresRangeSendsTheWholeFileAgain() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 7);
        hub.repo("org/tiny").commit("main", files);
        hub.dropAfter("model.safetensors", 50_000, 1);
        hub.ignoreRange("model.safetensors");
        assertSameFiles(files, fetch(settings(hub, cache), "org/tiny"));
        assertEquals(2, hub.count(FakeHub.CDN, "GET", ""));
    }

    @Test
    void aWrongSha256LeavesNothingALaterRunWouldTrust() throws IOException {
        hub.repo("org/tiny").commit("main", smallRepo(SIZE, 8));
        hub.corrupt("model.safetensors");
        HubException e = fails(settings(hub, cache), "org/tiny");
        assertEquals(Reason.CHECKSUM, e.reason());
        String sha = FakeHub.sha256(smallRepo(SIZE, 8).get("model.safetensors"));
        assertTrue(e.getMessage().matches("org/tiny@[0-9a-f]{40}: model.safetensors: the download's sha256 is [0-9a-f]{64}, not "
                + sha + " as the Hub announced; it was discarded, try again"), e.getMessage());
        assertEquals(List.of(), cached(".incomplete"));
        assertEquals(List.of(), cached(sha));
        assertEquals(List.of(), cached("model.safetensors"));
    }

    @Test
    void aSlowServerIsWaitedForAndProgressIsReported() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 9);
        hub.repo("org/tiny").commit("main", files);
        hub.slow("model.safetensors", 50_000, 20);
        HubFixtures.Recorder progress = new HubFixtures.Recorder();
        assertSameFiles(files, new Hub(settings(hub, cache), progress).snapshot(ModelName.parse("org/tiny")));
        List<String> events = progress.events().stream().filter(s -> s.contains("model.safetensors")).toList();
        assertEquals("update model.safetensors 0/" + SIZE, events.getFirst());
        assertEquals("finished model.safetensors " + SIZE, events.getLast());
        assertTrue(events.size() >= 7, events.toString());
    }

    @Test
    void aStalledDownloadTimesOutAndResumes() throws IOException {
        Map<String, byte[]> files = smallRepo(SIZE, 10);
        hub.repo("org/tiny").commit("main", files);
        hub.stall("model.safetensors", 64_000, 5_000, 1);
        HubSettings s = settings(hub, cache).withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300));
        assertSameFiles(files, fetch(s, "org/tiny"));
        List<String> ranges = cdnRanges();
        assertEquals(2, ranges.size(), ranges.toString());
        assertTrue(ranges.getLast().matches("bytes=\\d+-"), ranges.toString());
    }

    @Test
    void concurrentDownloadsInOneProcessShareOneBlob() throws Exception {
        Map<String, byte[]> files = smallRepo(SIZE, 11);
        hub.repo("org/tiny").commit("main", files);
        hub.slow("model.safetensors", 30_000, 10);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) results.add(pool.submit((Callable<Path>) () -> fetch(settings(hub, cache), "org/tiny")));
            Path first = results.getFirst().get(60, TimeUnit.SECONDS);
            for (Future<Path> f : results) assertEquals(first, f.get(60, TimeUnit.SECONDS));
            assertSameFiles(files, first);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, hub.count(FakeHub.CDN, "GET", ""), "the weights were downloaded once");
        assertEquals(3, cached("").stream().filter(p -> p.getParent().getFileName().toString().equals("blobs")).count());
        assertEquals(List.of(), cached(".incomplete"));
    }

    @Test
    void concurrentDownloadsInTwoProcessesShareOneBlob() throws Exception {
        Map<String, byte[]> files = smallRepo(SIZE, 12);
        hub.repo("org/tiny").commit("main", files);
        hub.slow("model.safetensors", 30_000, 30);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            children.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HubProbe.class.getName(),
                    hub.endpoint(), cache.toString(), "org/tiny").redirectErrorStream(true).start());
        }
        List<String> outputs = new ArrayList<>();
        for (Process child : children) {
            // a guard against a hung child, not a performance assertion
            boolean finished = child.waitFor(120, TimeUnit.SECONDS);
            if (!finished) child.destroyForcibly();
            String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(finished, "child did not finish: " + output);
            assertEquals(0, child.exitValue(), output);
            outputs.add(output.lines().reduce((a, b) -> b).orElse(""));
        }
        Path snapshot = cache.resolve("models--org--tiny/snapshots").resolve(hub.repo("org/tiny").head("main"));
        assertEquals(List.of(snapshot.toString(), snapshot.toString()), outputs);
        assertSameFiles(files, snapshot);
        assertEquals(1, hub.count(FakeHub.CDN, "GET", ""), "the weights were downloaded once");
        assertEquals(List.of(), cached(".incomplete"));
    }
}
