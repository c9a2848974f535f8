package bertj.loader.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.ModelFormatException;
import bertj.loader.hub.HubException.Reason;
import bertj.loader.hub.HubResponses.FileMetadata;
import bertj.loader.hub.HubResponses.Headers;
import bertj.loader.hub.HubResponses.Missing;
import bertj.loader.hub.HubResponses.Target;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model names, settings from the environment, the reading of the Hub's headers, and the progress line. */
class HubPartsTest {
    static final String COMMIT = "a".repeat(40);
    static final String SHA = "b".repeat(64);
    static final URI URL = URI.create("https://huggingface.co/org/m/resolve/main/model.safetensors");
    static final Target TARGET = new Target("org/m", "main", "model.safetensors", URI.create("https://huggingface.co"), false);

    @Test
    void modelNamesFollowTheHubsRules() {
        assertEquals(new ModelName("org/name", "main"), ModelName.parse("org/name"));
        assertEquals(new ModelName("bert-base-uncased", "v1.0"), ModelName.parse("bert-base-uncased@v1.0"));
        assertEquals(new ModelName("o/n", "refs/pr/1"), ModelName.parse("o/n@refs/pr/1"));
        assertTrue(ModelName.parse("o/n@" + COMMIT).pinned());
        assertFalse(ModelName.parse("o/n@main").pinned());
        assertEquals("models--sentence-transformers--all-MiniLM-L6-v2", ModelName.parse("sentence-transformers/all-MiniLM-L6-v2").folderName());
        assertEquals("org/name@dev", ModelName.parse("org/name@dev").toString());
        assertEquals("org/name", ModelName.parse("org/name@main").toString());
        for (String bad : List.of("", "/abs", "a/b/c", "./x", "-x", "x-", "a--b", "a..b", "x.git", "a b", "org/", "a/b@", "a/b@../../x",
                "a/b@x/../y", "a/b@.hidden", "a/b@x\ny", "a/b@x y", "a/b@x.lock", "a/b@a//b", "a/b@café", "n".repeat(97), "ü/x")) {
            assertFalse(ModelName.isValid(bad), bad);
        }
        assertEquals("\"a b\" is not a Hugging Face model name (org/name or name: letters, digits, '_', '-' and '.', starting"
                + " and ending with a letter, digit or '_')", assertThrows(IllegalArgumentException.class, () -> ModelName.parse("a b")).getMessage());
        assertEquals("revision has a character bertj does not take in a git revision: U+000A",
                assertThrows(IllegalArgumentException.class, () -> ModelName.parse("a/b@x\ny")).getMessage());
    }

    @Test
    void settingsComeFromTheEnvironmentInHuggingFaceHubsOrder(@TempDir Path home) throws IOException {
        Map<String, String> env = new HashMap<>();
        assertEquals(home.resolve(".cache/huggingface/hub"), HubSettings.fromEnvironment(env, home).cache());
        env.put("XDG_CACHE_HOME", "/xdg");
        assertEquals(Path.of("/xdg/huggingface/hub"), HubSettings.fromEnvironment(env, home).cache());
        env.put("HF_HOME", "~/hf");
        assertEquals(home.resolve("hf/hub"), HubSettings.fromEnvironment(env, home).cache());
        env.put("HF_HUB_CACHE", "/hub-cache");
        assertEquals(Path.of("/hub-cache"), HubSettings.fromEnvironment(env, home).cache());

        HubSettings s = HubSettings.fromEnvironment(env, home);
        assertEquals(URI.create("https://huggingface.co"), s.endpoint());
        assertFalse(s.hasToken());
        assertFalse(s.offline());
        assertEquals(Duration.ofSeconds(10), s.readTimeout());

        Files.createDirectories(home.resolve("hf"));
        Files.writeString(home.resolve("hf/token"), "hf_FromFile\n");
        assertEquals("hf_FromFile", HubSettings.fromEnvironment(env, home).token());
        env.put("HF_TOKEN", "  hf_FromEnv ");
        assertEquals("hf_FromEnv", HubSettings.fromEnvironment(env, home).token());
        assertFalse(HubSettings.fromEnvironment(env, home).toString().contains("hf_FromEnv"));

        env.put("HF_ENDPOINT", "http://127.0.0.1:8080/");
        env.put("HF_HUB_OFFLINE", "1");
        env.put("HF_HUB_DOWNLOAD_TIMEOUT", "2.5");
        s = HubSettings.fromEnvironment(env, home);
        assertEquals(URI.create("http://127.0.0.1:8080"), s.endpoint());
        assertTrue(s.offline());
        assertEquals(Duration.ofMillis(2500), s.readTimeout());
        for (String yes : List.of("true", "YES", "on")) {
            env.put("HF_HUB_OFFLINE", yes);
            assertTrue(HubSettings.fromEnvironment(env, home).offline(), yes);
        }
        env.put("HF_HUB_OFFLINE", "0");
        assertFalse(HubSettings.fromEnvironment(env, home).offline());

        env.put("HF_ENDPOINT", "ftp://x");
        assertEquals("HF_ENDPOINT must be an http(s) URL such as https://huggingface.co, got \"ftp://x\"",
                assertThrows(IllegalArgumentException.class, () -> HubSettings.fromEnvironment(env, home)).getMessage());
        env.put("HF_ENDPOINT", "https://huggingface.co");
        env.put("HF_HUB_ETAG_TIMEOUT", "soon");
        assertEquals("HF_HUB_ETAG_TIMEOUT must be a number of seconds (0 to 86400), got \"soon\"",
                assertThrows(IllegalArgumentException.class, () -> HubSettings.fromEnvironment(env, home)).getMessage());
    }

    private static Headers headers(String... pairs) {
        Map<String, List<String>> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put(pairs[i], List.of(pairs[i + 1]));
        return new Headers(m);
    }

    @Test
    void metadataPrefersTheLinkedHeadersAndStripsTheEtag() {
        FileMetadata lfs = (FileMetadata) HubResponses.metadata(URL, 302, headers("x-repo-commit", COMMIT, "ETag", "W/\"pointer\"",
                "X-Linked-Etag", "\"" + SHA + "\"", "Content-Length", "134", "X-Linked-Size", "5000",
                "Location", "https://cdn.example/blob?sig=1"), TARGET);
        assertEquals(new FileMetadata(COMMIT, SHA, 5000, URI.create("https://cdn.example/blob?sig=1")), lfs);
        assertTrue(lfs.lfs());

        FileMetadata plain = (FileMetadata) HubResponses.metadata(URL, 200, headers("X-Repo-Commit", COMMIT, "ETag", "W/\"abc123\"",
                "Content-Length", "42"), TARGET);
        assertEquals(new FileMetadata(COMMIT, "abc123", 42, URL), plain);
        assertFalse(plain.lfs());

        assertEquals(new Missing(COMMIT), HubResponses.metadata(URL, 404, headers("X-Error-Code", "EntryNotFound", "X-Repo-Commit", COMMIT), TARGET));
        assertEquals(new Missing(null), HubResponses.metadata(URL, 404, headers("X-Repo-Commit", "not-a-commit"), TARGET));
        assertTrue(HubResponses.relative("/google-bert/bert-base-uncased/resolve/main/config.json"));
        assertFalse(HubResponses.relative("https://cdn-lfs.hf.co/x"));
    }

    @Test
    void headersTheHubWouldNotSendAreRefused() {
        Map<String, String> cases = Map.of(
                "no X-Repo-Commit header (is https://huggingface.co a Hugging Face Hub?)", "ETag|\"x\"|Content-Length|1",
                "X-Repo-Commit \"main\" is not a 40-hex commit", "X-Repo-Commit|main|ETag|\"x\"|Content-Length|1",
                "no ETag header, so its content cannot be named in the cache", "X-Repo-Commit|" + COMMIT + "|Content-Length|1",
                "ETag \"\"../../evil\"\" cannot name a file in the cache", "X-Repo-Commit|" + COMMIT + "|ETag|\"../../evil\"|Content-Length|1",
                "size \"-1\" is not a byte count", "X-Repo-Commit|" + COMMIT + "|ETag|\"x\"|Content-Length|-1",
                "no X-Linked-Size or Content-Length header", "X-Repo-Commit|" + COMMIT + "|ETag|\"x\"");
        cases.forEach((message, headerList) -> {
            HubException e = assertThrows(HubException.class, () -> HubResponses.metadata(URL, 200, headers(headerList.split("\\|")), TARGET));
            assertEquals(Reason.PROTOCOL, e.reason());
            assertEquals("org/m@main: model.safetensors: " + message, e.getMessage());
        });
        HubException e = assertThrows(HubException.class, () -> HubResponses.metadata(URL, 302, headers("X-Repo-Commit", COMMIT), TARGET));
        assertEquals("org/m@main: model.safetensors: HTTP 302 redirect without a Location header", e.getMessage());
        e = assertThrows(HubException.class, () -> HubResponses.metadata(URL, 302, headers("Location", "file:///etc/passwd"), TARGET));
        assertEquals("org/m@main: model.safetensors: HTTP 302 redirect to \"file:///etc/passwd\", which is not an http(s) URL", e.getMessage());
        e = assertThrows(HubException.class, () -> HubResponses.metadata(URL, 418, headers("X-Error-Message", "I'm\na teapot"), TARGET));
        assertEquals("org/m@main: model.safetensors: unexpected HTTP 418 (the server says: I'm a teapot)", e.getMessage());
    }

    @Test
    void pathsFromAModelsFilesStayInsideIt() {
        Path index = Path.of("model.safetensors.index.json");
        assertEquals("model-00001-of-00002.safetensors", Hub.repoPath("model-00001-of-00002.safetensors", index));
        assertEquals("1_Pooling/config.json", Hub.repoPath("1_Pooling/config.json", index));
        for (String bad : List.of("", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a", "a/", "a\u0000b", "\uD800x.json")) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Hub.repoPath(bad, index), bad);
            assertTrue(e.getMessage().startsWith("model.safetensors.index.json: names the file \""), e.getMessage());
        }
        assertEquals("refs%2Fpr%2F1", Hub.encode("refs/pr/1", false));
        assertEquals("1_Pooling/config%20x%C3%BC.json", Hub.encode("1_Pooling/config xü.json", true));
    }

    @Test
    void theProgressLineShowsBytesRateAndTimeLeft() {
        long[] now = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress terminal = new ConsoleProgress(new PrintWriter(new OutputStreamWriter(bytes, StandardCharsets.UTF_8), true), true, () -> now[0]);
        terminal.update("model.safetensors", 0, 90_000_000);
        now[0] = 2_000_000_000L;
        terminal.update("model.safetensors", 30_000_000, 90_000_000);
        now[0] = 2_050_000_000L;
        terminal.update("model.safetensors", 31_000_000, 90_000_000); // within 100 ms of the last redraw: not drawn
        now[0] = 6_000_000_000L;
        terminal.finished("model.safetensors", 90_000_000);
        assertEquals("bertj: model.safetensors  0 B / 90.0 MB  -\r"
                + "bertj: model.safetensors  30.0 MB / 90.0 MB  15.0 MB/s  ETA 4 s\r"
                + "bertj: model.safetensors  90.0 MB  15.0 MB/s  done" + " ".repeat(13) + "\n", bytes.toString(StandardCharsets.UTF_8));

        bytes.reset();
        ConsoleProgress log = new ConsoleProgress(new PrintWriter(new OutputStreamWriter(bytes, StandardCharsets.UTF_8), true), false, () -> now[0]);
        log.update("vocab.txt", 0, 232_000);
        log.update("vocab.txt", 232_000, 232_000);
        log.finished("vocab.txt", 232_000);
        log.update("model.safetensors", 0, 90_000_000);
        log.finished("model.safetensors", 90_000_000);
        log.update("model.safetensors", 1000, 90_000_000);
        log.finished("model.safetensors", 90_000_000);
        log.warn("cannot reach https://huggingface.co");
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(List.of("bertj: vocab.txt  232.0 kB  -  done", "bertj: downloading model.safetensors (90.0 MB)",
                "bertj: model.safetensors  90.0 MB  -  done", "bertj: downloading model.safetensors (90.0 MB, resuming at 1.0 kB)",
                "bertj: model.safetensors  90.0 MB  -  done", "bertj: cannot reach https://huggingface.co"), text.lines().toList());
        assertEquals("1 min 05 s", ConsoleProgress.duration(65));
        assertEquals("2 h 00 min", ConsoleProgress.duration(7200));
        assertInstanceOf(DownloadProgress.class, DownloadProgress.toStandardError());
    }
}
