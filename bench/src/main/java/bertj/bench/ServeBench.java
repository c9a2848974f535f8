package bertj.bench;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.kernels.ThreadPool;
import bertj.loader.PoolingConfig;
import bertj.server.Server;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.Socket;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bertj serve} under load, against the in-process path, in one JVM: {@link Server} runs in-process on
 * 127.0.0.1 (any free port) over a model loaded once, and for each client count that many clients (virtual
 * threads, one shared {@link HttpClient}, HTTP/1.1) send single-text {@code POST /embed} requests
 * ({@code {"inputs": TEXT, "truncate": true, "normalize": ...}}) until {@code requests} have been sent, after
 * {@code warmup} untimed ones. Request {@code i} carries corpus text {@code i mod texts}.
 *
 * <p>The in-process path is what {@code bertj embed} does: {@link Bert#embed(List, Pooling, boolean)} on windows of
 * {@value CorpusBench#WINDOW} texts, on the same {@code requests} texts, one pass just before and one just after each
 * client count's requests (the machine's drift hits both alike); its throughput is their mean. Every server answer is
 * checked, after the timed phase, against the in-process vector of its text: the same bits, or the run fails.
 *
 * <p>JSON lines: the corpus and the load once; the in-process forward of one 16-token text (median of
 * {@value #SEQ16_RUNS} calls of {@code bert.embed(List.of(text))}); per client count the requests/s, tokens/s
 * (real tokens, after truncation) and latency p50/p90/p99 in ms, the in-process texts/s and the ratio server /
 * in-process; at one client also the seq-16 forward, the 1-client p50 minus it, and the in-process latency of one
 * text alone over the same texts as the requests.
 */
public final class ServeBench {
    /** The corpus the bench replays when none is given. */
    public static final String DEFAULT_CORPUS = "bench/corpus/mixed-1000.jsonl";
    /** Calls of {@code bert.embed(List.of(text))} on a 16-token text whose median is the forward at seq 16. */
    static final int SEQ16_RUNS = 200;
    static final int SEQ16 = 16;
    /** Texts timed alone in-process at one client, for the latency of one text of the corpus's mix. */
    static final int ONE_TEXT_RUNS = 200;
    /** Most requests per client count: each keeps its latency and answer until checked. */
    static final int MAX_REQUESTS = 1_000_000;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = new JsonFactory();

    /**
     * @param model    a model directory bertj loads
     * @param corpus   JSON Lines, {@code {"text": ...}} per line
     * @param clients  concurrent client counts, each from 1 to the server's default concurrency limit
     * @param requests timed requests per client count
     * @param warmup   untimed requests per client count before the timed ones (checked too)
     * @param threads  the engine's threads
     */
    public record Options(Path model, Path corpus, List<Integer> clients, int requests, int warmup, int threads) {
        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(corpus, "corpus");
            clients = List.copyOf(clients);
            checkFlags(clients, requests, warmup, threads);
            if (!Files.isRegularFile(corpus)) throw new IllegalArgumentException(corpus + ": no such corpus file");
        }

        /** @throws IllegalArgumentException naming the first flag out of range */
        public static void checkFlags(List<Integer> clients, int requests, int warmup, int threads) {
            int limit = Server.Options.defaults().maxConcurrentRequests();
            if (clients.isEmpty()) throw new IllegalArgumentException("--clients: give at least one client count");
            for (int c : clients) {
                if (c < 1 || c > limit) {
                    throw new IllegalArgumentException("--clients: a client count must be from 1 to " + limit
                            + " (the server's --max-concurrent-requests), got " + c);
                }
            }
            if (requests < 1 || requests > MAX_REQUESTS) {
                throw new IllegalArgumentException("--requests must be from 1 to " + MAX_REQUESTS + ", got " + requests);
            }
            if (warmup < 0 || warmup > MAX_REQUESTS) throw new IllegalArgumentException("--warmup must be from 0 to " + MAX_REQUESTS + ", got " + warmup);
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
    }

    private ServeBench() {
    }

    /** Runs every client count, printing JSON lines to {@code out} as results come in; fails on any wrong answer. */
    public static void run(Options options, PrintWriter out) throws Exception {
        List<String> texts = CorpusBench.readTexts(options.corpus());
        try (ThreadPool pool = new ThreadPool(options.threads())) {
            long start = System.nanoTime();
            try (Bert bert = Bert.load(options.model(), pool)) {
                double loadMs = SideBySide.millis(System.nanoTime() - start);
                PoolingConfig own = bert.defaultPooling();
                Pooling mode = Pooling.valueOf(own.mode().name());
                boolean normalize = own.normalize();
                int[] tokens = bert.tokenizer().encodeBatch(texts, null,
                                EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()))
                        .stream().mapToInt(Encoding::length).toArray();
                // the reference vectors, and the in-process path's first warm-up
                float[][] expected = CorpusBench.embed(bert, texts, CorpusBench.WINDOW, mode, normalize);
                int[] sorted = tokens.clone();
                java.util.Arrays.sort(sorted);
                SideBySide.print(out, SideBySide.line().put("corpus", options.corpus().toString()).put("texts", texts.size())
                        .put("median_tokens", CorpusBench.median(sorted)).put("max_length", bert.maxLength())
                        .put("requests", options.requests()).put("warmup", options.warmup())
                        .put("threads", options.threads()).put("precision", bert.model().precision().label())
                        .put("pooling", mode.name().toLowerCase(java.util.Locale.ROOT)).put("normalize", normalize)
                        .put("load_ms", SideBySide.round(loadMs)));

                String seq16Text = textOfLength(bert, texts, SEQ16);
                double seq16 = seq16Forward(bert, seq16Text);
                SideBySide.print(out, SideBySide.line().put("inprocess", "forward_seq16").put("seq", SEQ16)
                        .put("runs", SEQ16_RUNS).put("median_ms", SideBySide.round(seq16)));

                byte[][] bodies = new byte[texts.size()][];
                for (int i = 0; i < texts.size(); i++) {
                    ObjectNode body = JSON.createObjectNode().put("inputs", texts.get(i)).put("truncate", true).put("normalize", normalize);
                    bodies[i] = JSON.writeValueAsBytes(body);
                }
                List<String> timedTexts = new ArrayList<>(options.requests());
                long timedTokens = 0;
                for (int i = 0; i < options.requests(); i++) {
                    timedTexts.add(texts.get(i % texts.size()));
                    timedTokens += tokens[i % texts.size()];
                }

                start = System.nanoTime();
                try (Server server = Server.start(bert, Server.Options.defaults().withPort(0));
                     ExecutorService httpExecutor = Executors.newVirtualThreadPerTaskExecutor();
                     HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                             .connectTimeout(Duration.ofSeconds(10)).executor(httpExecutor).build()) {
                    SideBySide.print(out, SideBySide.line().put("server", server.uri().toString())
                            .put("start_ms", SideBySide.round(SideBySide.millis(System.nanoTime() - start))));
                    URI embed = server.uri().resolve("/embed");
                    for (int clients : options.clients()) {
                        Load warm = load(http, embed, bodies, clients, options.warmup());
                        checkAnswers(warm, expected, clients, "warm-up");
                        long before = timedPass(bert, timedTexts, mode, normalize);
                        Load timed = load(http, embed, bodies, clients, options.requests());
                        long after = timedPass(bert, timedTexts, mode, normalize);
                        checkAnswers(timed, expected, clients, "timed");
                        double seconds = timed.nanos() / 1e9;
                        double serverRate = options.requests() / seconds;
                        double inProcessSeconds = (before + after) / 2e9;
                        double inProcessRate = options.requests() / inProcessSeconds;
                        ObjectNode line = SideBySide.line().put("clients", clients).put("requests", options.requests())
                                .put("seconds", SideBySide.round(seconds))
                                .put("requests_per_s", SideBySide.round(serverRate))
                                .put("tokens_per_s", Math.round(timedTokens / seconds))
                                .put("p50_ms", SideBySide.round(SideBySide.percentile(timed.latencies(), 50)))
                                .put("p90_ms", SideBySide.round(SideBySide.percentile(timed.latencies(), 90)))
                                .put("p99_ms", SideBySide.round(SideBySide.percentile(timed.latencies(), 99)))
                                .put("checked", options.warmup() + options.requests()).put("mismatches", 0).put("failures", 0)
                                .put("inprocess_texts_per_s", SideBySide.round(inProcessRate))
                                .put("inprocess_s_before", SideBySide.round(before / 1e9))
                                .put("inprocess_s_after", SideBySide.round(after / 1e9))
                                .put("ratio", SideBySide.round(serverRate / inProcessRate));
                        if (clients == 1) {
                            double p50 = SideBySide.percentile(timed.latencies(), 50);
                            line.put("forward_seq16_ms", SideBySide.round(seq16))
                                    .put("p50_minus_forward_seq16_ms", SideBySide.round(p50 - seq16))
                                    .put("inprocess_one_text_p50_ms", SideBySide.round(oneTextMedian(bert, timedTexts)));
                        }
                        SideBySide.print(out, line);
                        if (clients == 1) {
                            byte[] body = JSON.writeValueAsBytes(JSON.createObjectNode().put("inputs", seq16Text).put("normalize", normalize));
                            float[] vector = bert.embed(List.of(seq16Text), mode, normalize)[0];
                            Seq16 s16 = seq16SideBySide(bert, server, http, embed, body, seq16Text, vector);
                            SideBySide.print(out, SideBySide.line().put("seq16_side_by_side", SEQ16_RUNS)
                                    .put("forward_ms", SideBySide.round(s16.forward()))
                                    .put("socket_client_p50_ms", SideBySide.round(s16.socket()))
                                    .put("http_client_p50_ms", SideBySide.round(s16.httpClient()))
                                    .put("socket_client_minus_forward_ms", SideBySide.round(s16.socket() - s16.forward())));
                        }
                    }
                }
            }
        }
    }

    /** One client count's requests: the wall time, each request's latency and answer, in request order. */
    record Load(long nanos, long[] latencies, byte[][] answers, int[] textIndex) {
    }

    /**
     * {@code clients} virtual threads send {@code requests} single-text requests in all, request {@code i} carrying
     * text {@code i mod texts}. A failed request (not 200, or no answer) stops every client and fails the run.
     */
    static Load load(HttpClient http, URI embed, byte[][] bodies, int clients, int requests) throws Exception {
        long[] latencies = new long[requests];
        byte[][] answers = new byte[requests][];
        int[] textIndex = new int[requests];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(threads.submit(() -> {
                    for (int i; failures.get() == 0 && (i = next.getAndIncrement()) < requests; ) {
                        int text = i % bodies.length;
                        textIndex[i] = text;
                        HttpRequest request = HttpRequest.newBuilder(embed).timeout(REQUEST_TIMEOUT)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[text])).build();
                        long sent = System.nanoTime();
                        try {
                            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            latencies[i] = System.nanoTime() - sent;
                            if (response.statusCode() != 200) {
                                fail(failures, firstFailure, "request " + (i + 1) + " (text " + (text + 1) + "): HTTP "
                                        + response.statusCode() + ": " + new String(response.body(), StandardCharsets.UTF_8));
                            }
                            answers[i] = response.body();
                        } catch (IOException e) {
                            fail(failures, firstFailure, "request " + (i + 1) + " (text " + (text + 1) + "): " + e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
        long nanos = System.nanoTime() - start;
        if (failures.get() > 0) {
            throw new IllegalStateException(clients + " clients: " + failures.get() + " request(s) failed, the first: " + firstFailure.get());
        }
        return new Load(nanos, latencies, answers, textIndex);
    }

    private static void fail(AtomicInteger failures, AtomicReference<String> first, String message) {
        first.compareAndSet(null, message);
        failures.incrementAndGet();
    }

    /** Fails unless every answer is the in-process vector of its text, bit for bit. */
    static void checkAnswers(Load load, float[][] expected, int clients, String phase) {
        int mismatches = 0;
        String first = null;
        for (int i = 0; i < load.answers().length; i++) {
            String problem = difference(load.answers()[i], expected[load.textIndex()[i]]);
            if (problem != null) {
                mismatches++;
                if (first == null) first = "request " + (i + 1) + " (text " + (load.textIndex()[i] + 1) + "): " + problem;
            }
        }
        if (mismatches > 0) {
            throw new IllegalStateException(clients + " clients, " + phase + ": " + mismatches + " of " + load.answers().length
                    + " answers are not the in-process vector of their text; the first: " + first);
        }
    }

    /**
     * Null when {@code body} is {@code [[v0, v1, ...]]} with exactly the floats of {@code expected} (each number read as
     * a float from its shortest decimal, as Jackson wrote it); else what differs.
     */
    static String difference(byte[] body, float[] expected) {
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_ARRAY || p.nextToken() != JsonToken.START_ARRAY) return "not [[...]]";
            int n = 0;
            for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; n++) {
                if (t != JsonToken.VALUE_NUMBER_FLOAT && t != JsonToken.VALUE_NUMBER_INT) return "value " + n + " is not a number";
                float got = Float.parseFloat(p.getText());
                if (n >= expected.length) return "more than " + expected.length + " values";
                if (Float.floatToIntBits(got) != Float.floatToIntBits(expected[n])) {
                    return "value " + n + " is " + got + ", in-process " + expected[n];
                }
            }
            if (n != expected.length) return n + " values, in-process " + expected.length;
            if (p.nextToken() != JsonToken.END_ARRAY || p.nextToken() != null) return "more than one vector";
            return null;
        } catch (IOException e) {
            return "not JSON: " + e.getMessage();
        }
    }

    /** One in-process pass over the texts as {@code bertj embed} runs them; its wall time in nanoseconds. */
    private static long timedPass(Bert bert, List<String> texts, Pooling mode, boolean normalize) {
        long start = System.nanoTime();
        CorpusBench.embed(bert, texts, CorpusBench.WINDOW, mode, normalize);
        return System.nanoTime() - start;
    }

    /** A text of exactly {@code length} tokens: the first such in the corpus, else "a" repeated. */
    static String textOfLength(Bert bert, List<String> texts, int length) {
        for (String t : texts) if (bert.tokenizer().encode(t, null, EncodeOptions.DEFAULT).length() == length) return t;
        for (int words = 1; words <= length; words++) {
            String t = String.join(" ", java.util.Collections.nCopies(words, "a"));
            if (bert.tokenizer().encode(t, null, EncodeOptions.DEFAULT).length() == length) return t;
        }
        throw new IllegalStateException("no text of " + length + " tokens in the corpus, nor of repeated \"a\"");
    }

    /** Median ms of {@value #SEQ16_RUNS} calls of {@code bert.embed(List.of(text))}, after a few untimed. */
    private static double seq16Forward(Bert bert, String text) {
        for (int i = 0; i < 20; i++) bert.embed(List.of(text));
        long[] nanos = new long[SEQ16_RUNS];
        for (int i = 0; i < nanos.length; i++) {
            long start = System.nanoTime();
            bert.embed(List.of(text));
            nanos[i] = System.nanoTime() - start;
        }
        return SideBySide.percentile(nanos, 50);
    }

    /** Medians in ms: the forward in-process, and the request over a plain socket and through HttpClient. */
    record Seq16(double forward, double socket, double httpClient) {
    }

    /**
     * The 16-token text {@value #SEQ16_RUNS} times three ways, interleaved so that the host's drift hits all alike:
     * {@code bert.embed} in-process; {@code POST /embed} on one kept-alive connection by a plain socket client
     * that writes the request and reads the response, so that the figure is the server's and little else; and the
     * same through {@link HttpClient}, whose own work runs on the same two cores. Every answer must be the vector.
     */
    static Seq16 seq16SideBySide(Bert bert, Server server, HttpClient http, URI embed, byte[] body, String text, float[] vector)
            throws Exception {
        long[] forward = new long[SEQ16_RUNS], socket = new long[SEQ16_RUNS], client = new long[SEQ16_RUNS];
        byte[] head = ("POST /embed HTTP/1.1\r\nHost: " + server.address().getHostString() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        HttpRequest post = HttpRequest.newBuilder(embed).timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        try (Socket connection = new Socket(server.address().getAddress(), server.address().getPort())) {
            connection.setTcpNoDelay(true);
            connection.setSoTimeout((int) REQUEST_TIMEOUT.toMillis());
            OutputStream out = connection.getOutputStream();
            InputStream in = new BufferedInputStream(connection.getInputStream());
            for (int i = -20; i < SEQ16_RUNS; i++) { // 20 untimed rounds first
                long t0 = System.nanoTime();
                bert.embed(List.of(text));
                long t1 = System.nanoTime();
                out.write(request);
                out.flush();
                byte[] answer = readResponse(in);
                long t2 = System.nanoTime();
                HttpResponse<byte[]> reply = http.send(post, HttpResponse.BodyHandlers.ofByteArray());
                long t3 = System.nanoTime();
                for (byte[] a : new byte[][] {answer, reply.statusCode() == 200 ? reply.body() : null}) {
                    String wrong = a == null ? "status " + reply.statusCode() : difference(a, vector);
                    if (wrong != null) throw new IllegalStateException("the 16-token request's answer: " + wrong);
                }
                if (i < 0) continue;
                forward[i] = t1 - t0;
                socket[i] = t2 - t1;
                client[i] = t3 - t2;
            }
        }
        return new Seq16(SideBySide.percentile(forward, 50), SideBySide.percentile(socket, 50), SideBySide.percentile(client, 50));
    }

    /** An HTTP/1.1 response's body (status 200 and a Content-Length, as the server sends them), or null for another status. */
    private static byte[] readResponse(InputStream in) throws IOException {
        int length = -1;
        boolean ok = false, first = true;
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) throw new EOFException("the server closed the connection");
            if (b != '\n') {
                if (b != '\r') line.append((char) b);
                continue;
            }
            String header = line.toString();
            line.setLength(0);
            if (header.isEmpty()) break;
            if (first) ok = header.startsWith("HTTP/1.1 200 ");
            else if (header.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(header.substring(15).trim());
            first = false;
        }
        if (length < 0) throw new IOException("a response without Content-Length");
        byte[] body = in.readNBytes(length);
        return ok ? body : null;
    }

    /** Median ms of one text alone in-process, over the first {@value #ONE_TEXT_RUNS} of the requests' texts. */
    private static double oneTextMedian(Bert bert, List<String> texts) {
        int n = Math.min(ONE_TEXT_RUNS, texts.size());
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            bert.embed(List.of(texts.get(i)));
            nanos[i] = System.nanoTime() - start;
        }
        return SideBySide.percentile(nanos, 50);
    }
}
