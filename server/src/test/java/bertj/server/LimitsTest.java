package bertj.server;

import static bertj.server.Http.assertSameBits;
import static bertj.server.Http.assertShape;
import static bertj.server.Http.floats;
import static bertj.server.Http.get;
import static bertj.server.Http.post;
import static bertj.server.RoutesTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The server's limits: API key, payload size, concurrency, and closing while requests are in flight. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class LimitsTest {
    private Bert bert;

    @BeforeAll
    void load() {
        bert = Bert.load(TestModels.embedder());
    }

    @AfterAll
    void close() {
        bert.close();
    }

    private float[] alone(String text) {
        return bert.embed(List.of(text), Pooling.valueOf(bert.defaultPooling().mode().name()), true)[0];
    }

    @Test
    void anApiKeyGuardsEveryRouteButHealthAndMetrics() throws IOException {
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0).withApiKey("s3cret"))) {
            String body = "{\"inputs\": \"a\"}";
            Http.Reply none = post(server, "/embed", body);
            assertError(none, 401, "Unauthorized", "this server needs an API key: send the header Authorization: Bearer KEY");
            assertEquals("Bearer", none.header("WWW-Authenticate"));
            assertError(post(server, "/embed", body, "Authorization", "Bearer wrong"), 401, "Unauthorized", null);
            assertError(post(server, "/embed", body, "Authorization", "s3cret"), 401, "Unauthorized", null);
            assertError(get(server, "/info"), 401, "Unauthorized", null);
            Http.Reply openAi = post(server, "/v1/embeddings", "{\"input\": \"a\"}");
            assertEquals(401, openAi.status());
            assertShape(TeiShapes.openAiError("Unauthorized", 401), openAi.json());
            assertEquals(200, post(server, "/embed", body, "Authorization", "Bearer s3cret").status());
            assertEquals(200, get(server, "/info", "Authorization", "Bearer s3cret").status());
            assertEquals(200, get(server, "/health").status());
            assertEquals(200, get(server, "/metrics").status());
        }
    }

    @Test
    void aBodyOverThePayloadLimitGets413() throws IOException {
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0).withPayloadLimit(1000))) {
            String fits = "{\"inputs\": \"a\"}" + " ".repeat(1000 - 15);
            assertEquals(1000, fits.length());
            assertEquals(200, post(server, "/embed", fits).status());
            // told by Content-Length
            assertError(post(server, "/embed", fits + " "), 413, "Validation",
                    "the request body is 1001 bytes, over the limit of 1000 bytes (--payload-limit)");
            // chunked, with no length announced: read up to the limit, not further
            byte[] big = ("{\"inputs\": \"" + "a".repeat(50_000) + "\"}").getBytes();
            HttpRequest chunked = HttpRequest.newBuilder(server.uri().resolve("/embed")).timeout(Http.TIMEOUT)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build();
            assertError(Http.send(chunked), 413, "Validation", "the request body is more than 1000 bytes, over the limit of 1000 bytes (--payload-limit)");
            // and the server still answers
            assertEquals(200, post(server, "/embed", "{\"inputs\": \"b\"}").status());
        }
    }

    @Test
    void requestsBeyondTheConcurrencyLimitAreRefusedAtOnce() throws Exception {
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxConcurrentRequests(3))) {
            server.holdBatches(true);
            List<CompletableFuture<Http.Reply>> held = new ArrayList<>();
            for (String text : List.of("one", "two")) {
                held.add(CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": \"" + text + "\"}")));
            }
            waitFor(() -> server.queued() == 2, "two requests queued");
            // a batch of two needs two permits; one is left
            Http.Reply refused = post(server, "/embed", "{\"inputs\": [\"three\", \"four\"]}");
            assertError(refused, 429, "Overloaded", "Model is overloaded");
            CompletableFuture<Http.Reply> third = CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": \"five\"}"));
            waitFor(() -> server.queued() == 3, "a third request queued");
            assertError(post(server, "/embed", "{\"inputs\": \"six\"}"), 429, "Overloaded", "Model is overloaded");
            assertShape(TeiShapes.openAiError("Overloaded", 429), post(server, "/v1/embeddings", "{\"input\": \"six\"}").json());
            server.holdBatches(false);
            held.add(third);
            List<String> texts = List.of("one", "two", "five");
            for (int i = 0; i < 3; i++) {
                Http.Reply r = held.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.text());
                assertSameBits(alone(texts.get(i)), floats(r.json().get(0)), texts.get(i));
            }
            // the permits came back
            assertEquals(200, post(server, "/embed", "{\"inputs\": [\"a\", \"b\", \"c\"]}").status());
            String metrics = get(server, "/metrics").text();
            assertTrue(metrics.contains("te_request_failure{route=\"/embed\",err=\"Overloaded\"} 2"), metrics);
        }
    }

    @Test
    void aClientThatHangsUpHasItsQueuedWorkDroppedAndItsPermitsBack() throws Exception {
        assumeTrue(HangUpWatch.supported(), "this system does not show the kernel's connection table");
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxConcurrentRequests(2))) {
            server.holdBatches(true);
            byte[] body = "{\"inputs\": [\"left before\", \"its answer\"]}".getBytes(StandardCharsets.UTF_8);
            try (Socket client = new Socket(server.address().getAddress(), server.address().getPort())) {
                OutputStream out = client.getOutputStream();
                out.write(("POST /embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                waitFor(() -> server.queued() == 2, "the two inputs queued");
            } // hangs up
            waitFor(() -> get(server, "/metrics").text().contains("te_request_hung_up 1\n"), "the hang-up noticed");
            // its two permits come back while its inputs still sit in the held queue
            // on a thread of its own: the common pool's one thread (on two cores) may still be blocked by an earlier test
            CompletableFuture<Http.Reply> next = CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": [\"a\", \"b\"]}"),
                    runnable -> Thread.ofVirtual().start(runnable));
            waitFor(() -> server.queued() == 4, "the next request admitted");
            server.holdBatches(false);
            Http.Reply r = next.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.text());
            assertSameBits(alone("b"), floats(r.json().get(1)), "b");
            String metrics = get(server, "/metrics").text();
            assertTrue(metrics.contains("te_request_dropped 2\n"), metrics);
            assertTrue(metrics.contains("te_batch_next_size_sum 2\n"), metrics); // only the next request ran
        }
    }

    @Test
    void queuedRequestsRunTogetherInOneBatch() throws Exception {
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0))) {
            server.holdBatches(true);
            List<String> texts = List.of("alpha", "beta gamma", "delta epsilon zeta", "eta", "theta iota kappa lambda");
            List<CompletableFuture<Http.Reply>> replies = new ArrayList<>();
            for (String t : texts) replies.add(CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": \"" + t + "\"}")));
            waitFor(() -> server.queued() == texts.size(), "five requests queued");
            server.holdBatches(false);
            for (int i = 0; i < texts.size(); i++) {
                Http.Reply r = replies.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.text());
                assertSameBits(alone(texts.get(i)), floats(r.json().get(0)), texts.get(i));
            }
            String metrics = get(server, "/metrics").text();
            // the warm-up runs no batches through the batcher: this one was the first, of all five
            assertTrue(metrics.contains("te_batch_next_size_count 1\n"), metrics);
            assertTrue(metrics.contains("te_batch_next_size_sum 5\n"), metrics);
        }
    }

    @Test
    void aBatchIsCutAtMaxBatchTokens() throws Exception {
        // 64 tokens per batch at most: three 30-token inputs make two batches
        try (Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxBatchTokens(64))) {
            server.holdBatches(true);
            String text = "word ".repeat(28).trim(); // 28 words and [CLS] [SEP]
            List<CompletableFuture<Http.Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 3; i++) replies.add(CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": \"" + text + "\"}")));
            waitFor(() -> server.queued() == 3, "three requests queued");
            server.holdBatches(false);
            for (CompletableFuture<Http.Reply> r : replies) assertSameBits(alone(text), floats(r.get(30, TimeUnit.SECONDS).json().get(0)), "cut");
            String metrics = get(server, "/metrics").text();
            assertTrue(metrics.contains("te_batch_next_size_count 2\n"), metrics);
            assertTrue(metrics.contains("te_batch_next_tokens_sum 90\n"), metrics);
        }
        assertThrows(IllegalArgumentException.class, () -> Server.start(bert, Server.Options.defaults().withPort(0).withMaxBatchTokens(63)));
    }

    @Test
    void closeLetsTheRequestsInFlightFinish() throws Exception {
        Server server = Server.start(bert, Server.Options.defaults().withPort(0));
        server.holdBatches(true);
        List<String> texts = List.of("first", "second", "third");
        List<CompletableFuture<Http.Reply>> replies = new ArrayList<>();
        for (String t : texts) replies.add(CompletableFuture.supplyAsync(() -> post(server, "/embed", "{\"inputs\": \"" + t + "\"}")));
        waitFor(() -> server.queued() == 3, "three requests queued");
        Thread closing = Thread.ofPlatform().start(server::close);
        closing.join(300);
        assertTrue(closing.isAlive(), "close() returned with requests in flight");
        // meanwhile, new requests are refused
        Http.Reply refused = post(server, "/embed", "{\"inputs\": \"late\"}");
        assertError(refused, 503, "Unhealthy", "the server is shutting down");
        assertError(get(server, "/health"), 503, "Unhealthy", "the server is shutting down");
        server.holdBatches(false);
        closing.join(30_000);
        assertFalse(closing.isAlive(), "close() did not return");
        for (int i = 0; i < texts.size(); i++) {
            Http.Reply r = replies.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.text());
            assertSameBits(alone(texts.get(i)), floats(r.json().get(0)), texts.get(i));
        }
        // closed: nothing listens any more
        HttpRequest after = HttpRequest.newBuilder(server.uri().resolve("/health")).timeout(Http.TIMEOUT).build();
        assertThrows(IOException.class, () -> Http.CLIENT.send(after, java.net.http.HttpResponse.BodyHandlers.ofString()));
        server.close(); // again: nothing to do
    }

    @Test
    void badOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Server.Options.defaults().withPort(65536));
        assertThrows(IllegalArgumentException.class, () -> Server.Options.defaults().withPort(-1));
        assertThrows(IllegalArgumentException.class, () -> Server.Options.defaults().withMaxConcurrentRequests(0));
        assertThrows(IllegalArgumentException.class, () -> Server.Options.defaults().withPayloadLimit(-5));
        assertThrows(IllegalArgumentException.class, () -> Server.Options.defaults().withApiKey(""));
    }

    @Test
    void aPortInUseIsAnError() throws IOException {
        try (Server first = Server.start(bert, Server.Options.defaults().withPort(0))) {
            IOException e = assertThrows(IOException.class, () -> Server.start(bert, Server.Options.defaults().withPort(first.port())));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + first.port() + ": "), e.getMessage());
        }
    }

    static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }
}
