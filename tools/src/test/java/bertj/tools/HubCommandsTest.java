package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.testsupport.FakeHub;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI with models by name, end to end: {@code bertj embed sentence-transformers/all-MiniLM-L6-v2 "hello"} in a
 * JVM of its own whose environment points HF_ENDPOINT at a fake Hub that serves the default model's files; then
 * the same with HF_HUB_OFFLINE=1 and the Hub gone; then {@code download} and {@code cache}.
 */
class HubCommandsTest {
    static final String MODEL = "sentence-transformers/all-MiniLM-L6-v2";
    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    Path temp;

    record Child(int exitCode, String out, String err) {
    }

    /** {@code bertj ARGS} in a new JVM, with the HF_ variables of {@code env} and none of this process's. */
    private Child bertj(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String flags = Objects.requireNonNull(System.getProperty("bertj.jvm.flags"), "bertj.jvm.flags, which the pom passes to tests");
        command.addAll(List.of(flags.trim().split(" +"))); // the pom's, as this JVM's
        command.addAll(List.of(
                "-Dbertj.cacheDir=" + System.getProperty("bertj.cacheDir"),
                "-Dbertj.defaultModelSource=" + System.getProperty("bertj.defaultModelSource"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_") || k.startsWith("HUGGING"));
        pb.environment().putAll(env);
        Path err = temp.resolve("stderr.txt");
        Process child = pb.redirectError(err.toFile()).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // a guard against a hung child, not a performance assertion
        boolean finished = child.waitFor(180, TimeUnit.SECONDS);
        if (!finished) child.destroyForcibly();
        String errText = Files.readString(err).lines().filter(l -> !l.equals(INCUBATOR_WARNING)).map(l -> l + "\n")
                .reduce("", String::concat);
        assertTrue(finished, "bertj " + String.join(" ", args) + " did not finish: " + errText);
        return new Child(child.exitValue(), out, errText);
    }

    private static float[] embedding(String jsonLine) throws IOException {
        JsonNode node = new ObjectMapper().readTree(jsonLine).get("embedding");
        float[] v = new float[node.size()];
        for (int i = 0; i < v.length; i++) v[i] = node.get(i).floatValue();
        return v;
    }

    @Test
    void embedsAHubModelByNameThenOfflineFromTheCache() throws Exception {
        Path defaultModel = ModelArgument.resolve("default");
        Map<String, String> env = new HashMap<>(Map.of("HF_HUB_CACHE", temp.resolve("hub").toString(),
                "HF_HOME", temp.resolve("hf-home").toString()));
        Child online;
        String commit;
        try (FakeHub hub = FakeHub.start()) {
            commit = hub.repo(MODEL).commit("main", defaultModel);
            env.put("HF_ENDPOINT", hub.endpoint());
            online = bertj(env, "embed", MODEL, "hello");
            assertEquals(0, online.exitCode(), online.err());
            assertEquals(1, hub.count(FakeHub.CDN, "GET", ""), "model.safetensors, from the CDN");
            assertEquals(0, hub.count(FakeHub.HUB, "GET", "/.bertj-complete"), "only what the model needs");
        }
        MainTest.Run local = MainTest.run("", "embed", defaultModel.toString(), "hello");
        float[] expected = embedding(local.out()), actual = embedding(online.out());
        assertEquals(384, actual.length);
        assertTrue(OnnxRuntimeParityTest.maxAbsDiff(expected, actual) <= 1e-6, "the same model by name and by directory");
        assertTrue(online.err().contains("bertj: downloading model.safetensors (90.9 MB)\n"), online.err());
        assertTrue(online.err().contains("bertj: model.safetensors  90.9 MB  "), online.err());
        System.out.print("[hub] bertj embed " + MODEL + " against the fake Hub, standard error:\n" + online.err());

        Path snapshot = temp.resolve("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots").resolve(commit);
        env.put("HF_HUB_OFFLINE", "1"); // and nothing listens at HF_ENDPOINT any more
        Child offline = bertj(env, "embed", MODEL, "hello");
        assertEquals(0, offline.exitCode(), offline.err());
        assertEquals(online.out(), offline.out());
        assertEquals("", offline.err());

        Child download = bertj(env, "download", MODEL);
        assertEquals(new Child(0, snapshot + "\n", ""), download);

        Child cache = bertj(env, "cache");
        assertEquals(0, cache.exitCode(), cache.err());
        List<String> lines = cache.out().lines().toList();
        assertEquals("Hugging Face cache: " + temp.resolve("hub"), lines.get(0));
        assertTrue(lines.get(1).matches("MODEL +SIZE +FILES +REVISIONS"), lines.get(1));
        assertTrue(lines.get(2).matches(MODEL + " +9\\d\\.\\d MB +\\d+ +main -> " + commit.substring(0, 8)), lines.get(2));
        assertTrue(lines.get(3).matches("total: 1 model, 9\\d\\.\\d MB"), lines.get(3));
        assertFalse(cache.out().contains("incomplete"));
    }
}
