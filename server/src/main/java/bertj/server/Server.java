package bertj.server;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.PackedInput;
import bertj.engine.Pooling;
import bertj.server.ApiException.Type;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP server for one model, compatible with Hugging Face's text-embeddings-inference (TEI) and with OpenAI's
 * {@code /v1/embeddings}: the JDK's own HTTP server on virtual threads, Jackson for JSON, and dynamic batching
 * ({@link Batcher}) in front of the engine.
 *
 * <pre>{@code
 * try (Bert bert = Bert.load(dir); Server server = Server.start(bert, Server.Options.defaults().withPort(0))) {
 *     System.out.println(server.uri()); // http://127.0.0.1:41234
 * }
 * }</pre>
 *
 * {@link #start} returns once the kernels are warm and the server answers. {@link #close} stops taking requests
 * (they get 503), lets those in flight finish, then returns; the caller closes the model after it.
 */
public final class Server implements AutoCloseable {
    /**
     * How the server runs; {@link #defaults()} are TEI's defaults.
     *
     * @param port                  0 takes any free port ({@link #port()} tells which)
     * @param maxBatchTokens        most tokens per batch (batches are packed: no padding)
     * @param maxClientBatchSize    most inputs in one request
     * @param maxConcurrentRequests most inputs admitted at once: beyond them a request gets 429 at once
     * @param payloadLimit          most bytes in a request body (413 beyond)
     * @param autoTruncate          truncate inputs over the model's length when a request does not say
     * @param apiKey                when not null, requests need {@code Authorization: Bearer KEY} (401 without)
     * @param modelId               the name {@code /info} and {@code /v1/embeddings} give the model; null: its directory's
     */
    public record Options(String host, int port, int maxBatchTokens, int maxClientBatchSize, int maxConcurrentRequests,
                          int payloadLimit, boolean autoTruncate, String apiKey, String modelId) {
        public Options {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
            positive("maxBatchTokens", maxBatchTokens);
            positive("maxClientBatchSize", maxClientBatchSize);
            positive("maxConcurrentRequests", maxConcurrentRequests);
            positive("payloadLimit", payloadLimit);
            if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("apiKey must not be empty (null for none)");
        }

        public static Options defaults() {
            return new Options("127.0.0.1", 8080, 16384, 32, 512, 2_000_000, false, null, null);
        }

        public Options withHost(String host) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate, apiKey, modelId);
        }

        public Options withPort(int port) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate, apiKey, modelId);
        }

        public Options withMaxBatchTokens(int n) {
            return new Options(host, port, n, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate, apiKey, modelId);
        }

        public Options withMaxClientBatchSize(int n) {
            return new Options(host, port, maxBatchTokens, n, maxConcurrentRequests, payloadLimit, autoTruncate, apiKey, modelId);
        }

        public Options withMaxConcurrentRequests(int n) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, n, payloadLimit, autoTruncate, apiKey, modelId);
        }

        public Options withPayloadLimit(int bytes) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, bytes, autoTruncate, apiKey, modelId);
        }

        public Options withAutoTruncate(boolean truncate) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, truncate, apiKey, modelId);
        }

        public Options withApiKey(String key) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate, key, modelId);
        }

        public Options withModelId(String id) {
            return new Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate, apiKey, id);
        }

        private static void positive(String name, int value) {
            if (value <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    /** How long {@link #close} waits for requests in flight (a client still sending its body, say) before it stops. */
    static final long DRAIN_MILLIS = 60_000;
    /** Warm-up: forwards of growing size until this many have run or this much time has passed. */
    private static final int WARM_UP_FORWARDS = 24;
    private static final long WARM_UP_MILLIS = 3_000;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A POST route's work. */
    private interface PostHandler {
        Api.Reply handle(JsonNode body, Api.Admission admission);
    }

    /** A path's handlers; an {@code open} route's GET needs no API key (health and metrics, as in TEI). */
    private record Route(String path, java.util.function.Supplier<byte[]> get, String getType, PostHandler post, boolean open,
                         boolean openAi) {
    }

    private final Bert bert;
    private final Options options;
    private final HttpServer http;
    private final ExecutorService executor;
    private final Batcher batcher;
    private final Metrics metrics = new Metrics();
    private final HangUpWatch hangUps = new HangUpWatch();
    private final Api api;
    private final Map<String, Route> routes = new LinkedHashMap<>();
    private final Semaphore permits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final String version = version();
    private volatile boolean ready, closing;
    private boolean closed;

    private Server(Bert bert, Options options) throws IOException {
        this.bert = bert;
        this.options = options;
        if (options.maxBatchTokens() < bert.maxLength()) {
            // TEI's own check: a batch must be able to hold the longest input
            throw new IllegalArgumentException("maxBatchTokens (" + options.maxBatchTokens() + ") must be at least the model's maximum length ("
                    + bert.maxLength() + " tokens)");
        }
        this.permits = new Semaphore(options.maxConcurrentRequests());
        Api.ModelType type = modelType(bert);
        Pooling pooling = type == Api.ModelType.EMBEDDING ? Pooling.valueOf(bert.defaultPooling().mode().name()) : Pooling.CLS;
        String modelId = options.modelId() != null ? options.modelId() : String.valueOf(bert.model().directory().path().getFileName());
        this.batcher = new Batcher(bert, pooling, options.maxBatchTokens(), metrics);
        this.api = new Api(bert, options, batcher, metrics, type, pooling, modelId);
        addRoutes(type);
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 1024);
        } catch (IOException e) {
            batcher.close();
            executor.close();
            hangUps.close();
            throw new IOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        http.setExecutor(executor);
        http.createContext("/", exchange -> handle(exchange));
    }

    /**
     * Listens, warms the kernels up (answering 503 meanwhile) and returns the running server.
     *
     * @throws IOException when the address cannot be bound
     */
    public static Server start(Bert bert, Options options) throws IOException {
        Server server = new Server(bert, options);
        server.http.start();
        long start = System.nanoTime();
        try {
            server.warmUp();
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        server.ready = true;
        System.err.printf("bertj serve: kernels warmed up in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        return server;
    }

    /** The address the server listens on, with the port it bound. */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    public int port() {
        return address().getPort();
    }

    /** {@code http://HOST:PORT}. */
    public URI uri() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return URI.create("http://" + host + ":" + port());
    }

    /** For tests: while held, the batcher starts no batch. */
    void holdBatches(boolean hold) {
        batcher.hold(hold);
    }

    /** Sequences waiting for their batch. */
    int queued() {
        return batcher.waiting();
    }

    private void addRoutes(Api.ModelType type) {
        route(new Route("/health", this::health, null, null, true, false));
        route(new Route("/ping", this::health, null, null, true, false));
        route(new Route("/metrics", () -> metrics.render().getBytes(StandardCharsets.UTF_8), "text/plain; version=0.0.4; charset=utf-8", null, true, false));
        route(new Route("/info", () -> api.info(version), null, null, false, false));
        route(new Route("/embed", null, null, api::embed, false, false));
        route(new Route("/embed_all", null, null, api::embedAll, false, false));
        route(new Route("/similarity", null, null, api::similarity, false, false));
        route(new Route("/predict", null, null, api::predict, false, false));
        route(new Route("/rerank", null, null, api::rerank, false, false));
        route(new Route("/tokenize", null, null, api::tokenize, false, false));
        route(new Route("/decode", null, null, api::decode, false, false));
        route(new Route("/v1/embeddings", null, null, api::openAiEmbeddings, false, true));
        route(new Route("/embeddings", null, null, api::openAiEmbeddings, false, true));
        // TEI's default route (and SageMaker's): the model's own task; GET / is the health check
        PostHandler task = switch (type) {
            case EMBEDDING -> api::embed;
            case CLASSIFIER -> api::predict;
            case RERANKER -> api::rerank;
        };
        routes.put("/", new Route("/", this::health, null, task, true, false)); // open: the GET only
        route(new Route("/invocations", null, null, task, false, false));
    }

    private void route(Route r) {
        routes.put(r.path(), r);
    }

    private byte[] health() {
        if (!ready || closing) throw new ApiException(Type.Unhealthy, "unhealthy");
        return new byte[0];
    }

    // ---------------------------------------------------------------- requests

    private void handle(HttpExchange exchange) {
        long start = System.nanoTime();
        inFlight.incrementAndGet();
        String path = exchange.getRequestURI().getPath();
        Route route = routes.get(path);
        String label = route == null ? "other" : path;
        int[] held = {0}; // permits this request holds
        Thread handler = Thread.currentThread();
        boolean[] handling = {true};
        // a client that hangs up interrupts the wait for its results: its queued work is then dropped (Api.infer)
        HangUpWatch.Registration watch = hangUps.watch(exchange.getLocalAddress(), exchange.getRemoteAddress(), () -> {
            synchronized (handling) {
                if (!handling[0]) return;
                metrics.increment("te_request_hung_up", "Requests whose client hung up before the answer");
                handler.interrupt();
            }
        });
        try (exchange) {
            Api.Reply reply;
            try {
                reply = dispatch(exchange, route, held);
            } catch (ApiException e) {
                metrics.increment("te_request_failure", "Failed requests by route and error type", "route", label, "err", e.type.name());
                sendError(exchange, route, e);
                return;
            } catch (RuntimeException | Error e) {
                metrics.increment("te_request_failure", "Failed requests by route and error type", "route", label, "err", "Internal");
                System.err.println("bertj serve: " + exchange.getRequestMethod() + " " + path + " failed: " + e);
                sendError(exchange, route, new ApiException(Type.Backend, 500, "internal error: " + e));
                return;
            }
            metrics.increment("te_request_success", "Successful requests by route", "route", label);
            boolean get = exchange.getRequestMethod().equals("GET");
            send(exchange, 200, reply.body(), get ? route.getType() : null, reply.timing(), start);
            if (reply.timing() != null) record(label, reply.timing(), start);
        } finally {
            watch.close();
            synchronized (handling) {
                handling[0] = false;
            }
            Thread.interrupted(); // a hang-up noticed as the request ended
            permits.release(held[0]);
            inFlight.decrementAndGet();
        }
    }

    private Api.Reply dispatch(HttpExchange exchange, Route route, int[] held) {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (closing) throw new ApiException(Type.Unhealthy, "the server is shutting down");
        if (route == null) throw new ApiException(Type.NotFound, "no route " + path + "; see GET /info for the model, POST /embed, /v1/embeddings, ...");
        metrics.increment("te_request_count", "Requests by route", "route", path);
        boolean get = method.equals("GET") && route.get() != null, post = method.equals("POST") && route.post() != null;
        if (!get && !post) {
            String allowed = route.get() != null && route.post() != null ? "GET, POST" : route.get() != null ? "GET" : "POST";
            exchange.getResponseHeaders().set("Allow", allowed);
            throw new ApiException(Type.MethodNotAllowed, method + " " + path + " is not allowed: use " + allowed);
        }
        if (get && route.open()) return new Api.Reply(route.get().get(), null);
        if (options.apiKey() != null && !authorized(exchange)) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new ApiException(Type.Unauthorized, "this server needs an API key: send the header Authorization: Bearer KEY");
        }
        if (!ready) throw new ApiException(Type.Unhealthy, "the model is warming up");
        if (get) return new Api.Reply(route.get().get(), null);
        if (!permits.tryAcquire()) throw overloaded();
        held[0] = 1;
        JsonNode body = parse(readBody(exchange));
        return route.post().handle(body, inputs -> {
            int more = inputs - held[0];
            if (more > 0) {
                if (!permits.tryAcquire(more)) throw overloaded();
                held[0] += more;
            }
        });
    }

    private static ApiException overloaded() {
        return new ApiException(Type.Overloaded, "Model is overloaded");
    }

    private boolean authorized(HttpExchange exchange) {
        String given = exchange.getRequestHeaders().getFirst("Authorization");
        if (given == null) return false;
        // constant time, so that the key cannot be guessed byte by byte from response times
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8));
    }

    /** The body, refused with 413 past the limit: at most limit + 1 bytes are ever read. */
    private byte[] readBody(HttpExchange exchange) {
        long limit = options.payloadLimit();
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                long declared = Long.parseLong(length.trim());
                if (declared > limit) throw payloadTooLarge(declared + " bytes");
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length is not a number: " + length);
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(options.payloadLimit() + 1);
            if (body.length > limit) throw payloadTooLarge("more than " + limit + " bytes");
            return body;
        } catch (IOException e) {
            throw ApiException.badRequest("could not read the request body: " + e.getMessage());
        }
    }

    private ApiException payloadTooLarge(String size) {
        return new ApiException(Type.Validation, 413, "the request body is " + size + ", over the limit of " + options.payloadLimit()
                + " bytes (--payload-limit)");
    }

    private static JsonNode parse(byte[] body) {
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage() + where);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading from memory
        }
        if (node == null || node.isMissingNode()) throw ApiException.badRequest("the request body is empty: expected a JSON object");
        if (!node.isObject()) throw ApiException.badRequest("the request body must be a JSON object, got " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        return node;
    }

    private void sendError(HttpExchange exchange, Route route, ApiException e) {
        byte[] body = Api.write(g -> {
            g.writeStartObject();
            if (route != null && route.openAi()) {
                // OpenAI's shape, with TEI's type and the status as the code
                g.writeObjectFieldStart("error");
                g.writeStringField("message", e.getMessage());
                g.writeStringField("type", e.type.name());
                g.writeNullField("param");
                g.writeNumberField("code", e.status);
                g.writeEndObject();
            } else {
                g.writeStringField("error", e.getMessage());
                g.writeStringField("error_type", e.type.name());
            }
            g.writeEndObject();
        });
        if (e.type == Type.Unhealthy && closing) exchange.getResponseHeaders().set("Connection", "close");
        send(exchange, e.status, body, null, null, 0);
    }

    private void send(HttpExchange exchange, int status, byte[] body, String contentType, Api.Timing timing, long start) {
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", contentType != null ? contentType : "application/json");
        if (timing != null) {
            // TEI's headers, in milliseconds
            long total = (System.nanoTime() - start) / 1_000_000;
            headers.set("x-compute-type", "cpu");
            headers.set("x-compute-time", Long.toString(total));
            headers.set("x-compute-characters", Long.toString(timing.chars()));
            headers.set("x-compute-tokens", Long.toString(timing.tokens()));
            headers.set("x-total-time", Long.toString(total));
            headers.set("x-tokenization-time", Long.toString(timing.tokenizationNanos() / 1_000_000));
            headers.set("x-queue-time", Long.toString(timing.queueNanos() / 1_000_000));
            headers.set("x-inference-time", Long.toString(timing.inferenceNanos() / 1_000_000));
        }
        try {
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) exchange.getResponseBody().write(body);
        } catch (IOException ignored) {
            // the client has gone: nobody to tell
        }
    }

    private void record(String route, Api.Timing timing, long start) {
        double[] buckets = Metrics.DURATION_BUCKETS;
        metrics.observe("te_request_duration", "Seconds per request", buckets, (System.nanoTime() - start) / 1e9, "route", route);
        metrics.observe("te_request_tokenization_duration", "Seconds of tokenization per input", buckets, timing.tokenizationNanos() / 1e9, "route", route);
        metrics.observe("te_request_queue_duration", "Seconds in the queue per input", buckets, timing.queueNanos() / 1e9, "route", route);
        metrics.observe("te_request_inference_duration", "Seconds of inference per input", buckets, timing.inferenceNanos() / 1e9, "route", route);
    }

    // ---------------------------------------------------------------- start and stop

    /** A model with a sequence-classification head classifies (one label: reranks); any other embeds. */
    private static Api.ModelType modelType(Bert bert) {
        var tokenizer = bert.tokenizer();
        try {
            bert.sequenceLogits(BertInput.of(new int[] {tokenizer.clsTokenId(), tokenizer.sepTokenId()}, null));
        } catch (UnsupportedOperationException e) {
            return Api.ModelType.EMBEDDING;
        }
        return bert.model().config().id2label().size() == 1 ? Api.ModelType.RERANKER : Api.ModelType.CLASSIFIER;
    }

    /**
     * Forwards of growing batches and lengths, so that the JIT compiles the kernels before the first request: the first
     * forwards of a new JVM run many times slower.
     */
    private void warmUp() {
        int[] words = bert.tokenizer().encode("The quick brown fox jumps over the lazy dog while the band plays on.").ids();
        long deadline = System.nanoTime() + WARM_UP_MILLIS * 1_000_000;
        int[][] shapes = {{1, 8}, {1, 32}, {4, 16}, {8, 64}, {16, 128}, {32, 128}};
        for (int i = 0; i < WARM_UP_FORWARDS && System.nanoTime() < deadline; i++) {
            int[] shape = shapes[Math.min(i / 4, shapes.length - 1)];
            int length = Math.min(shape[1], bert.maxLength());
            int sequences = Math.max(1, Math.min(shape[0], options.maxBatchTokens() / length));
            List<int[]> ids = new ArrayList<>();
            for (int s = 0; s < sequences; s++) {
                int[] row = new int[length];
                for (int t = 0; t < length; t++) row[t] = words[(s + t) % words.length];
                ids.add(row);
            }
            if (api.modelType() == Api.ModelType.EMBEDDING) bert.model().forward(PackedInput.of(ids, null), (s, rows, pooled) -> { });
            else bert.sequenceLogits(PackedInput.of(ids, null));
        }
    }

    /**
     * Stops taking requests (new ones get 503), waits for those in flight, then stops listening and the batcher.
     * The model stays open: its owner closes it.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        closing = true;
        long deadline = System.nanoTime() + DRAIN_MILLIS * 1_000_000;
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        http.stop(0);
        batcher.close();
        executor.close();
        hangUps.close();
    }

    private static String version() {
        Properties p = new Properties();
        try (InputStream in = Server.class.getResourceAsStream("version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            // no version then
        }
        return p.getProperty("version", "unknown");
    }
}
