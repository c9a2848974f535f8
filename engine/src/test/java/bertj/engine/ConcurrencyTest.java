package bertj.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One model shared by many threads gives exactly what it gives one thread; close waits for calls. */
class ConcurrencyTest {
    private static final List<String> TEXTS = List.of(
            "BERT is a powerful transformer model.", "Hello, world!", "a",
            "My name is John Doe, and I live in New York City.", "東京は日本の首都です。",
            "Unbelievably, the tokenization of hyperparameterization works.", "Café déjà vu — naïve façade.");

    @Test
    void eightThreadsGetTheSameOutputsAsOne() throws Exception {
        try (Reference ref = new Reference("tiny-bert"); Bert bert = Bert.load(ref.modelDir)) {
            // Expected outputs, one thread, one call at a time; batches of 1..3 texts of different lengths.
            List<List<String>> calls = new ArrayList<>();
            for (int i = 0; i < TEXTS.size(); i++) {
                calls.add(TEXTS.subList(i, Math.min(TEXTS.size(), i + 1 + i % 3)));
            }
            List<float[][]> expected = new ArrayList<>();
            for (List<String> call : calls) expected.add(bert.embed(call));

            ExecutorService threads = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    results.add(threads.submit(() -> {
                        int checked = 0;
                        for (int n = 0; n < 60; n++) {
                            int c = (seed * 7 + n) % calls.size();
                            float[][] got = bert.embed(calls.get(c));
                            for (int i = 0; i < got.length; i++) assertArrayEquals(expected.get(c)[i], got[i], 0f);
                            checked++;
                        }
                        return checked;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : results) total += f.get(2, TimeUnit.MINUTES);
                assertTrue(total == 8 * 60, "calls checked: " + total);
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @Test
    void usingAClosedModelFailsClearly() {
        Reference ref = new Reference("tiny-bert");
        ref.close();
        Bert bert = Bert.load(ref.modelDir);
        bert.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bert.embed("hello"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        bert.close(); // closing twice is harmless
    }

    @Test
    void closeWaitsForCallsInProgress() throws Exception {
        try (Reference ref = new Reference("tiny-bert")) {
            Bert bert = Bert.load(ref.modelDir);
            String longText = "word ".repeat(50);
            ExecutorService threads = Executors.newFixedThreadPool(4);
            List<Future<?>> calls = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                calls.add(threads.submit(() -> {
                    for (int n = 0; n < 200; n++) {
                        try {
                            bert.embed(longText);
                        } catch (IllegalStateException closed) {
                            return; // a call that starts after close fails cleanly
                        }
                    }
                }));
            }
            Thread.sleep(50);
            bert.close();
            for (Future<?> f : calls) f.get(1, TimeUnit.MINUTES); // no call saw freed memory
            threads.shutdown();
        }
    }
}
