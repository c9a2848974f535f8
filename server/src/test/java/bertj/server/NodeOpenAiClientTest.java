package bertj.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code openai} package from npm, the client most OpenAI-compatible servers are used with, against
 * {@code /v1/embeddings}: {@code embeddings.create} with float, base64 and the client's own default (base64,
 * decoded by the client) gives the Java API's vectors, bit for bit.
 *
 * <p>The client is installed by {@code npm ci} from {@code src/test/node}'s lock file into the module's target
 * folder. Without Node.js on the machine the test is skipped, saying so; a failed install fails it.
 */
@Timeout(300)
class NodeOpenAiClientTest {
    private static final List<String> TEXTS = List.of("A man is playing a guitar.", "Someone is making music.",
            "東京 über alles", "x", "a longer sentence, with punctuation; numbers 12,345.67 and an émoji 🎸.");
    private static final Path SOURCE = Path.of("src", "test", "node");
    private static final Path CLIENT = Path.of("target", "node-openai-client");

    private static Bert bert;
    private static Server server;

    @BeforeAll
    static void installClientAndStartServer() throws Exception {
        assumeTrue(commandWorks("node", "--version"), "Node.js (node) is not on PATH: the npm openai client test needs it");
        installClient();
        bert = Bert.load(TestModels.embedder());
        server = Server.start(bert, Server.Options.defaults().withPort(0));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (bert != null) bert.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"float", "base64", "default"})
    void embeddingsCreateDecodesToTheInProcessVectors(String format) throws Exception {
        JsonNode reply = Http.JSON.readTree(run(CLIENT, Http.JSON.writeValueAsString(TEXTS),
                "node", "embed.mjs", server.uri().resolve("/v1").toString(), format));
        float[][] expected = bert.embed(TEXTS, Pooling.valueOf(bert.defaultPooling().mode().name()), true);
        JsonNode vectors = reply.get("vectors");
        assertEquals(TEXTS.size(), vectors.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            JsonNode got = vectors.get(i);
            assertEquals(expected[i].length, got.size(), TEXTS.get(i));
            for (int j = 0; j < expected[i].length; j++) {
                // a JS number is a double; the float it came from is recovered exactly
                float value = got.get(j).decimalValue().floatValue();
                assertEquals(Float.floatToIntBits(expected[i][j]), Float.floatToIntBits(value),
                        TEXTS.get(i) + " [" + j + "]: " + expected[i][j] + " != " + value);
            }
        }
        int tokens = 0;
        for (String text : TEXTS) tokens += bert.tokenizer().encode(text).length();
        assertEquals(tokens, reply.get("usage").get("prompt_tokens").asInt());
        assertEquals(tokens, reply.get("usage").get("total_tokens").asInt());
    }

    /** {@code npm ci} into target, skipped when the same lock file is already installed there. */
    private static void installClient() throws IOException, InterruptedException {
        Files.createDirectories(CLIENT);
        byte[] lock = Files.readAllBytes(SOURCE.resolve("package-lock.json"));
        Path installedLock = CLIENT.resolve("node_modules").resolve(".package-lock.json");
        for (String file : List.of("package.json", "package-lock.json", "embed.mjs")) {
            Files.copy(SOURCE.resolve(file), CLIENT.resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Path marker = CLIENT.resolve("installed-lock.json");
        if (Files.exists(installedLock) && Files.exists(marker) && java.util.Arrays.equals(lock, Files.readAllBytes(marker))) return;
        run(CLIENT, "", "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        Files.write(marker, lock);
    }

    private static boolean commandWorks(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a command in {@code dir} with {@code stdin} as its input and returns its stdout; fails on a non-zero exit. */
    private static String run(Path dir, String stdin, String... command) throws IOException, InterruptedException {
        Path err = Files.createTempFile(dir.toAbsolutePath(), "stderr", ".txt");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(err.toFile()).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        boolean finished = p.waitFor(180, TimeUnit.SECONDS);
        if (!finished) p.destroyForcibly();
        String errors = Files.readString(err);
        Files.delete(err);
        assertTrue(finished && p.exitValue() == 0, String.join(" ", command) + " failed: " + errors);
        return new String(out, StandardCharsets.UTF_8);
    }
}
