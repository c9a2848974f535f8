package bertj.server;

import static bertj.server.Http.assertSameBits;
import static bertj.server.Http.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * Many clients at once, with texts of mixed lengths through /embed (single and batch) and /v1/embeddings: every answer
 * must be the Java API's vector for that text alone, bit for bit, whatever it was batched with.
 */
class ConcurrencyTest {
    private static final int CLIENTS = 32, REQUESTS = 20;

    @Test
    @Timeout(120)
    void everyAnswerIsTheInProcessVectorOfItsOwnText() throws Exception {
        Random random = new Random(19);
        List<String> words = List.of("guitar", "music", "cat", "garden", "movie", "awesome", "river", "stone", "light", "night", "über", "東京");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            StringBuilder t = new StringBuilder("text " + i);
            int length = random.nextInt(i % 5 == 0 ? 55 : 12); // mostly short, some near the 64-token limit
            for (int w = 0; w < length; w++) t.append(' ').append(words.get(random.nextInt(words.size())));
            texts.add(t.toString());
        }
        try (Bert bert = Bert.load(TestModels.embedder());
             Server server = Server.start(bert, Server.Options.defaults().withPort(0).withMaxBatchTokens(512))) {
            Pooling pooling = Pooling.valueOf(bert.defaultPooling().mode().name());
            Map<String, float[]> expected = new HashMap<>();
            for (String t : texts) expected.put(t, bert.embed(List.of(t), pooling, true)[0]);
            AtomicInteger checked = new AtomicInteger();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    long seed = c;
                    done.add(clients.submit(() -> {
                        Random r = new Random(seed);
                        for (int i = 0; i < REQUESTS; i++) {
                            List<String> mine = new ArrayList<>();
                            int n = r.nextInt(4) == 0 ? 1 + r.nextInt(4) : 1;
                            for (int k = 0; k < n; k++) mine.add(texts.get(r.nextInt(texts.size())));
                            boolean openAi = r.nextBoolean();
                            ObjectNode body = Http.JSON.createObjectNode();
                            ArrayNode inputs = body.putArray(openAi ? "input" : "inputs");
                            mine.forEach(inputs::add);
                            Http.Reply reply = Http.post(server, openAi ? "/v1/embeddings" : "/embed", body);
                            assertEquals(200, reply.status(), reply.text());
                            for (int k = 0; k < n; k++) {
                                JsonNode vector = openAi ? reply.json().get("data").get(k).get("embedding") : reply.json().get(k);
                                assertSameBits(expected.get(mine.get(k)), floats(vector), "client " + seed + " request " + i + " input " + k);
                                checked.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(100, TimeUnit.SECONDS);
            }
            String metrics = Http.get(server, "/metrics").text();
            assertEquals(checked.get(), sum(metrics, "te_batch_next_size_sum"), "every input ran in exactly one batch");
        }
    }

    private static long sum(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1))).sum();
    }
}
