package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bertj serve}: its flags, and a server in its own JVM that SIGTERM stops with exit code 0. */
class ServeCommandTest {
    @TempDir
    Path temp;

    @Test
    @Timeout(30)
    void badFlagsAreRefusedBeforeTheModelLoads() {
        String model = Fixtures.model("tiny-bert").toString();
        for (String[] flags : new String[][] {{"--port", "70000"}, {"--port", "-1"}, {"--max-concurrent-requests", "0"},
                {"--payload-limit", "0"}, {"--max-batch-tokens", "-3"}, {"--api-key", ""}, {"--port", "http"}}) {
            List<String> args = new ArrayList<>(List.of("serve", model));
            args.addAll(List.of(flags));
            MainTest.Run run = MainTest.run("", args.toArray(String[]::new));
            assertEquals(Main.USAGE, run.exitCode(), String.join(" ", flags) + ": " + run.err());
            assertTrue(run.err().startsWith("bertj: "), run.err());
        }
        MainTest.Run missing = MainTest.run("", "serve", temp.resolve("nothing-here").toString(), "--port", "0");
        assertEquals(Main.ERROR, missing.exitCode(), missing.err());
    }

    @Test
    @Timeout(120)
    void servesUntilSigtermThenExitsZero() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String flags = Objects.requireNonNull(System.getProperty("bertj.jvm.flags"), "bertj.jvm.flags, which the pom passes to tests");
        command.addAll(List.of(flags.trim().split(" +")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", Fixtures.model("tiny-bert").toString(), "--port", "0", "--max-client-batch-size", "4"));
        Path err = temp.resolve("stderr.txt");
        Process child = new ProcessBuilder(command).redirectError(err.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine(); // the one line, once the server answers
            assertTrue(ready != null && ready.matches("listening on http://127\\.0\\.0\\.1:\\d+"), ready + "\n" + Files.readString(err));
            URI uri = URI.create(ready.substring("listening on ".length()));
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(uri.resolve("/health")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            HttpResponse<String> embed = client.send(HttpRequest.newBuilder(uri.resolve("/embed")).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(422, embed.statusCode()); // the flag took effect
            assertEquals("{\"error\":\"batch size 5 > maximum allowed batch size 4\",\"error_type\":\"Validation\"}", embed.body());
            HttpResponse<String> info = client.send(HttpRequest.newBuilder(uri.resolve("/info")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(info.body().contains("\"model_id\":\"tiny-bert\""), info.body());

            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "no exit after SIGTERM");
            assertEquals(0, child.exitValue(), Files.readString(err));
            assertTrue(Files.readString(err).contains("bertj serve: stopping; finishing the requests in flight"), Files.readString(err));
        } finally {
            child.destroyForcibly();
        }
    }
}
