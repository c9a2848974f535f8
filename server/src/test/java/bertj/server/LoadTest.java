package bertj.server;

import static bertj.server.Http.assertSameBits;
import static bertj.server.Http.floats;
import static bertj.server.Http.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 64 clients sending 2,000 requests of mixed lengths at a server that admits 16 inputs at a time: every request is
 * answered, either with the in-process vector of its own text, bit for bit, or at once with 429; nothing is lost
 * or mixed up, and the heap after the load is where it was before it. Then a close() in the middle of a second
 * load: every request gets its vector, a 429 or a 503, and close() returns.
 */
class LoadTest {
    private static final int CLIENTS = 64, REQUESTS = 2_000, ADMITTED = 16;

    @Test
    @Timeout(180)
    void sixtyFourClientsTwoThousandRequestsNothingLostOrMixedUp() throws Exception {
        List<String> texts = texts();
        try (Bert bert = Bert.load(TestModels.embedder());
             Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxConcurrentRequests(ADMITTED))) {
            Map<String, float[]> expected = expected(bert, texts);
            load(server, texts, expected, 200); // warm: the JIT, the server's threads and buffers
            long before = usedHeapAfterGc();
            Map<Integer, Integer> statuses = load(server, texts, expected, REQUESTS);
            long after = usedHeapAfterGc();
            assertEquals(REQUESTS, statuses.values().stream().mapToInt(Integer::intValue).sum(), "every request answered");
            assertTrue(statuses.getOrDefault(200, 0) > 0 && statuses.getOrDefault(429, 0) > 0,
                    "answers and refusals beyond " + ADMITTED + " inputs at once: " + statuses);
            assertEquals(2, statuses.size(), "only 200 and 429: " + statuses);
            assertTrue(after - before < 32L << 20, "heap grew by " + ((after - before) >> 20) + " MB under load");
        }
    }

    @Test
    @Timeout(120)
    void closeDuringALoadAnswersEveryRequestAndReturns() throws Exception {
        List<String> texts = texts();
        try (Bert bert = Bert.load(TestModels.embedder())) {
            Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxConcurrentRequests(ADMITTED));
            Map<String, float[]> expected = expected(bert, texts);
            AtomicInteger answered = new AtomicInteger();
            Thread closing = Thread.ofPlatform().start(() -> {
                while (answered.get() < 300) Thread.onSpinWait();
                server.close();
            });
            Map<Integer, Integer> statuses = new HashMap<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Integer>> done = new ArrayList<>();
                for (int i = 0; i < REQUESTS / 2; i++) {
                    String text = texts.get(i % texts.size());
                    done.add(clients.submit(() -> {
                        Http.Reply r;
                        try {
                            r = post(server, "/embed", "{\"inputs\": \"" + text + "\"}");
                        } catch (AssertionError stopped) {
                            answered.incrementAndGet();
                            return -1; // the server stopped listening before this request connected
                        }
                        answered.incrementAndGet();
                        if (r.status() == 200) assertSameBits(expected.get(text), floats(r.json().get(0)), text);
                        return r.status();
                    }));
                }
                for (Future<Integer> f : done) statuses.merge(f.get(60, TimeUnit.SECONDS), 1, Integer::sum);
            }
            closing.join(60_000);
            assertTrue(!closing.isAlive(), "close() returned");
            assertTrue(statuses.getOrDefault(200, 0) >= 1, statuses.toString());
            statuses.keySet().forEach(s -> assertTrue(s == 200 || s == 429 || s == 503 || s == -1, "status " + s + ": " + statuses));
        }
    }

    /** Sends {@code requests} single-text /embed requests from {@link #CLIENTS} clients; the count of each status. */
    private static Map<Integer, Integer> load(Server server, List<String> texts, Map<String, float[]> expected, int requests)
            throws Exception {
        Map<Integer, Integer> statuses = new HashMap<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Map<Integer, Integer>>> done = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int first = c;
                done.add(clients.submit(() -> {
                    Map<Integer, Integer> mine = new HashMap<>();
                    for (int i = first; i < requests; i += CLIENTS) {
                        String text = texts.get(i % texts.size());
                        Http.Reply r = post(server, "/embed", "{\"inputs\": \"" + text + "\"}");
                        if (r.status() == 200) assertSameBits(expected.get(text), floats(r.json().get(0)), text);
                        else assertEquals("Overloaded", r.json().get("error_type").asText(), r.text());
                        mine.merge(r.status(), 1, Integer::sum);
                    }
                    return mine;
                }));
            }
            for (Future<Map<Integer, Integer>> f : done) f.get(120, TimeUnit.SECONDS).forEach((s, n) -> statuses.merge(s, n, Integer::sum));
        }
        return statuses;
    }

    private static List<String> texts() {
        Random random = new Random(5);
        List<String> words = List.of("guitar", "music", "cat", "garden", "movie", "river", "stone", "light", "über", "東京");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            StringBuilder t = new StringBuilder("text " + i);
            for (int w = 0, n = random.nextInt(i % 7 == 0 ? 50 : 10); w < n; w++) t.append(' ').append(words.get(random.nextInt(words.size())));
            texts.add(t.toString());
        }
        return texts;
    }

    private static Map<String, float[]> expected(Bert bert, List<String> texts) {
        Pooling pooling = Pooling.valueOf(bert.defaultPooling().mode().name());
        Map<String, float[]> expected = new HashMap<>();
        for (String t : texts) expected.put(t, bert.embed(List.of(t), pooling, true)[0]);
        return expected;
    }

    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
