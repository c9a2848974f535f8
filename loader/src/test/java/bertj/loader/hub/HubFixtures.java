package bertj.loader.hub;

import bertj.loader.TestData;
import bertj.testsupport.FakeHub;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Models to serve from a {@link FakeHub}, settings that point at it, and a view of the cache tree. */
final class HubFixtures {
    static final String MODULES = """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
             {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
            """;
    static final String POOLING = """
            {"word_embedding_dimension": 32, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
             "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}
            """;

    private HubFixtures() {
    }

    static Path model(String name) {
        return TestData.model(name);
    }

    /**
     * tiny-bert-seqcls as a sentence-transformers repo, with files bertj must leave alone: PyTorch weights, a README
     * and an ONNX export.
     */
    static Map<String, byte[]> sentenceTransformersRepo() throws IOException {
        Map<String, byte[]> files = FakeHub.files(model("tiny-bert-seqcls"));
        files.put("modules.json", utf8(MODULES));
        files.put("1_Pooling/config.json", utf8(POOLING));
        files.put("sentence_bert_config.json", utf8("{\"max_seq_length\": 64, \"do_lower_case\": true}"));
        files.put("pytorch_model.bin", new byte[1000]);
        files.put("onnx/model.onnx", new byte[1000]);
        files.put("README.md", utf8("# tiny\n"));
        return files;
    }

    /** A config and an LFS weights file of {@code size} random bytes: for the download's faults, which do not read them. */
    static Map<String, byte[]> smallRepo(int size, long seed) {
        byte[] weights = new byte[size];
        new Random(seed).nextBytes(weights);
        Map<String, byte[]> files = new TreeMap<>();
        files.put("config.json", utf8("{\"model_type\": \"bert\", \"seed\": " + seed + "}"));
        files.put("model.safetensors", weights);
        files.put("vocab.txt", utf8("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n"));
        return files;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Settings for the fake Hub, quick to give up and to try again. */
    static HubSettings settings(FakeHub hub, Path cache) {
        return HubSettings.of(cache, hub.endpoint())
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
                .withRetries(3, Duration.ofMillis(1));
    }

    /**
     * Every path under {@code root}, relative, with what it is: {@code dir}, {@code -> target} for a symlink (its
     * text, not followed), or {@code file sha256} (empty files as {@code file empty}).
     */
    static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (p.equals(root)) continue;
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) out.put(rel, "-> " + Files.readSymbolicLink(p));
                else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.put(rel, "dir");
                else out.put(rel, describe(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    static String describe(byte[] content) {
        return content.length == 0 ? "file empty" : "file " + FakeHub.sha256(content);
    }

    /** The etag the Hub gives a file: its sha256 for LFS files, else its git blob id. */
    static String etag(String path, byte[] content) {
        return FakeHub.lfs(path) ? FakeHub.sha256(content) : FakeHub.gitBlobId(content);
    }

    /** Records what downloads report. */
    static final class Recorder implements DownloadProgress {
        final List<String> events = new ArrayList<>();

        @Override
        public synchronized void update(String file, long done, long total) {
            events.add("update " + file + " " + done + "/" + total);
        }

        @Override
        public synchronized void finished(String file, long total) {
            events.add("finished " + file + " " + total);
        }

        @Override
        public synchronized void warn(String message) {
            events.add("warn " + message);
        }

        synchronized List<String> events() {
            return List.copyOf(events);
        }
    }
}
