package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import bertj.kernels.ThreadPool;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.tokenizer.TokenizerException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing and resource limits: a closed model refuses every call with an {@link IllegalStateException} that
 * says so; {@code close()} waits for the calls in progress, which finish with their normal results; a batch
 * whose working memory is over the cap is refused with a message before anything is allocated.
 */
class BertReliabilityTest {
    private static ThreadPool pool;

    @BeforeAll
    static void createPool() {
        pool = new ThreadPool(2);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    static Path model(String name) {
        return Fixtures.model(name);
    }

    private static void assertClosed(Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains("is closed"), "unclear message: " + e.getMessage());
    }

    // ------------------------------------------------------------------ closed models

    @Test
    void everyCallOnAClosedModelFailsClearly() {
        BertInput input = BertInput.of(new int[] {101, 7592, 102}, null);
        for (String name : List.of("tiny-bert", "tiny-bert-seqcls", "tiny-bert-tokcls", "tiny-bert-qa")) {
            Bert bert = Bert.load(model(name), pool);
            bert.close();
            assertClosed(() -> bert.embed("hello"));
            assertClosed(() -> bert.embed(List.of("a", "b"), Pooling.MEAN, true));
            assertClosed(() -> bert.similarity("a", "b"));
            assertClosed(() -> bert.search("a", List.of("b"), 1));
            assertClosed(() -> bert.encode(List.of("hello"), null, true));
            assertClosed(() -> bert.classify("hello"));
            assertClosed(() -> bert.entities("hello"));
            assertClosed(() -> bert.answer("what?", "this"));
            assertClosed(() -> bert.sequenceLogits(input));
            assertClosed(() -> bert.tokenLogits(input));
            assertClosed(() -> bert.spanLogits(input));
            assertClosed(() -> bert.model().forward(input));
            bert.close(); // a second close does nothing
        }
    }

    @Test
    void aClosedBertModelFailsClearly() {
        BertModel model = BertModel.load(model("tiny-bert"), pool);
        model.close();
        assertClosed(() -> model.forward(BertInput.of(new int[] {101, 102}, null), true, true));
        model.close();
    }

    /**
     * A directory whose weights load but whose tokenizer does not: the model is closed again, its own kernel
     * threads included, instead of leaking with every attempt.
     */
    @Test
    void aFailedLoadFreesWhatItLoaded(@TempDir Path dir) throws Exception {
        Path source = model("tiny-bert");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer_config.json")) Files.copy(source.resolve(f), dir.resolve(f));
        Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\nhello\n"); // no [CLS] or [SEP]
        long before = kernelThreads();
        for (int i = 0; i < 5; i++) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> Bert.load(dir));
            assertTrue(e.getMessage().contains("is not in the vocabulary"), e.getMessage());
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (kernelThreads() > before && System.nanoTime() < deadline) Thread.sleep(10); // closed workers exit soon after
        assertEquals(before, kernelThreads(), "kernel threads left running by failed loads");
    }

    @Test
    void aPipelineModuleBertjDoesNotRunBlocksEmbeddingsOnly(@TempDir Path dir) throws Exception {
        Path source = model("tiny-bert");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt")) {
            Files.copy(source.resolve(f), dir.resolve(f));
        }
        Files.writeString(dir.resolve("modules.json"), "["
                + "{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                + "{\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
                + "{\"idx\": 2, \"name\": \"2\", \"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]");
        Files.createDirectory(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"pooling_mode_mean_tokens\": true}");
        try (Bert bert = Bert.load(dir, pool); Bert plain = Bert.load(source, pool)) {
            // the encoder is the encoder: the same bits as without the pipeline
            BertInput input = BertInput.of(new int[] {2, 10, 11, 3}, new int[4]);
            assertArrayEquals(plain.model().forward(input).lastHiddenState(), bert.model().forward(input).lastHiddenState());
            for (Executable embedding : List.<Executable>of(bert::defaultPooling, () -> bert.embed("hello"),
                    () -> bert.embed(List.of("hello"), Pooling.CLS, false))) {
                ModelFormatException e = assertThrows(ModelFormatException.class, embedding);
                assertTrue(e.getMessage().contains("sentence_transformers.models.Dense, which bertj does not support"), e.getMessage());
            }
        }
    }

    private static long kernelThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("bertj-kernels-") && t.isAlive()).count();
    }

    // ------------------------------------------------------------------ closing during calls

    /** A list whose first element is handed out only once the test allows it: a call held inside bertj. */
    private static final class HeldList extends AbstractList<String> {
        final CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        private final List<String> texts;

        HeldList(List<String> texts) {
            this.texts = texts;
        }

        @Override
        public String get(int i) {
            entered.countDown();
            try {
                if (!release.await(2, TimeUnit.MINUTES)) throw new IllegalStateException("never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return texts.get(i);
        }

        @Override
        public int size() {
            return texts.size();
        }
    }

    /**
     * close() called while a call is inside the model waits for it, and the call finishes with the result it
     * would have had: held here at its first text, an embed of many batches (each a separate encoder run).
     */
    @Test
    void closeWaitsForACallInProgressWhichFinishesNormally() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) texts.add("sentence number " + i + " " + "word ".repeat(i % 40));
        Bert bert = Bert.load(model("tiny-bert"), pool);
        float[][] expected = bert.embed(texts);
        HeldList held = new HeldList(texts);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<float[][]> call = threads.submit(() -> bert.embed(held));
            assertTrue(held.entered.await(1, TimeUnit.MINUTES), "the call did not start");
            Thread[] closer = new Thread[1];
            Future<?> close = threads.submit(() -> {
                closer[0] = Thread.currentThread();
                bert.close();
            });
            // close() must now be waiting for the call
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while ((closer[0] == null || closer[0].getState() != Thread.State.WAITING) && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(Thread.State.WAITING, closer[0].getState(), "close() did not wait for the call in progress");
            assertTrue(!close.isDone(), "close() returned while a call was in progress");
            held.release.countDown();
            float[][] got = call.get(1, TimeUnit.MINUTES);
            close.get(1, TimeUnit.MINUTES);
            for (int i = 0; i < texts.size(); i++) assertArrayEquals(expected[i], got[i], 0f, "text " + i);
            assertClosed(() -> bert.embed("after"));
        } finally {
            held.release.countDown();
            threads.shutdownNow();
        }
    }

    /**
     * Threads calling every head while the models are closed under them: each call returns its normal result or,
     * having started after close(), fails with the "is closed" IllegalStateException; nothing else, and no call
     * reads freed memory (that would be an IllegalStateException of the memory API, "Already closed").
     */
    @Test
    void closingUnderMixedCallsEndsEachCallCleanly() throws Exception {
        record Task(String name, Consumer<Bert> call) {
        }
        String context = "The quick brown fox jumps over the lazy dog near the river bank in Paris. ".repeat(12);
        List<Task> tasks = List.of(
                new Task("tiny-bert-seqcls", b -> b.classify("a fine film, warmly recommended", null, true)),
                new Task("tiny-bert-tokcls", b -> b.entities("My name is John Doe and I live in New York City.", true)),
                new Task("tiny-bert-qa", b -> b.answer("Where does the fox jump?", context)),
                new Task("tiny-bert", b -> b.embed(List.of("short", "a somewhat longer sentence here", "word ".repeat(80)))));
        int calls = 0, refused = 0;
        for (int round = 0; round < 2; round++) {
            for (Task task : tasks) {
                Bert bert = Bert.load(model(task.name), pool);
                ExecutorService threads = Executors.newFixedThreadPool(4);
                List<Future<int[]>> results = new ArrayList<>();
                CountDownLatch running = new CountDownLatch(4);
                for (int t = 0; t < 4; t++) {
                    results.add(threads.submit(() -> {
                        int[] counts = new int[2];
                        running.countDown();
                        while (true) {
                            try {
                                task.call.accept(bert);
                                counts[0]++;
                            } catch (IllegalStateException e) {
                                if (!e.getMessage().contains("is closed")) throw e;
                                counts[1]++;
                                return counts;
                            }
                        }
                    }));
                }
                running.await();
                Thread.sleep(20 + 10 * round);
                bert.close();
                for (Future<int[]> f : results) {
                    int[] c = f.get(1, TimeUnit.MINUTES);
                    calls += c[0];
                    refused += c[1];
                }
                threads.shutdown();
            }
        }
        System.out.printf("closing under load: %d calls completed, %d refused after close%n", calls, refused);
        assertEquals(2 * tasks.size() * 4, refused);
    }

    // ------------------------------------------------------------------ working-memory cap

    @Test
    void aBatchOverTheWorkingMemoryCapIsRefusedWithAMessage() {
        long cap = 1 << 20;
        try (BertModel model = BertModel.load(ModelDirectory.open(model("tiny-bert")), pool, false, KernelMode.VECTOR, cap)) {
            int[] ids = new int[64 * 64];
            Arrays.fill(ids, 7592);
            BertInput big = new BertInput(64, 64, ids, new int[ids.length], filled(ids.length, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(big));
            assertTrue(e.getMessage().contains("batch of 64 x 64 tokens needs 4 MiB of working memory, over the cap of 1 MiB"),
                    e.getMessage());
            // a batch within the cap runs, on the same model
            assertEquals(2, model.forward(new BertInput(2, 64, Arrays.copyOf(ids, 128), new int[128], filled(128, 1)))
                    .lastHiddenState().length);
            // attention probabilities count too: [batch, heads, seq, seq] floats more
            BertInput mid = new BertInput(8, 64, Arrays.copyOf(ids, 512), new int[512], filled(512, 1));
            model.forward(mid, false, false);
            assertThrows(IllegalArgumentException.class, () -> model.forward(mid, false, true));
        }
    }

    /**
     * Question answering over a long context runs its windows a batch at a time, so a context of any length fits
     * the cap: here 3.5 MiB, one batch of 32 windows, less than all 40-odd windows at once need.
     */
    @Test
    void aLongQuestionAnsweringContextStaysWithinTheCap() {
        StringBuilder context = new StringBuilder();
        String[] things = {"apples", "books", "cables", "drums", "eggs", "flags", "glue", "hats", "ink", "jars", "keys"};
        for (int i = 0; i < 100; i++) {
            context.append("The ").append(things[i % things.length]).append(" of crate ").append(i).append(" are in room ")
                    .append(i * 7 % 13).append(". ");
        }
        String question = "Where are the hats of crate 117?";
        long cap = 7 << 19;
        try (Bert capped = Bert.of(BertModel.load(ModelDirectory.open(model("tiny-bert-qa")), pool, false, KernelMode.VECTOR, cap))) {
            int windows = 1 + capped.tokenizer().encode(question, context.toString(), bertj.tokenizer.EncodeOptions.DEFAULT
                    .withTruncation(bertj.tokenizer.EncodeOptions.Truncation.ONLY_SECOND, 64).withStride(32).withReturnOverflowing(true))
                    .overflowing().size();
            long allAtOnce = Workspace.bytesFor(windows * 64, windows, 48, capped.model().config().intermediateSize());
            assertTrue(allAtOnce > cap, windows + " windows need only " + allAtOnce + " bytes");
            Results.Answer answer = capped.answer(question, context.toString());
            assertEquals(context.substring(answer.start(), answer.end()), answer.text());
            assertTrue(answer.score() > 0 && answer.score() <= 1, "score " + answer.score());
        }
    }

    /** Under the default 2 GiB cap, a batch of 2.5 million tokens is refused before any of its working memory exists. */
    @Test
    void theDefaultCapRefusesAHugeBatchInsteadOfRunningOutOfMemory() {
        try (BertModel model = BertModel.load(model("tiny-bert"), pool)) {
            int batch = 40_000, seq = 64;
            int[] ids = filled(batch * seq, 7592);
            BertInput huge = new BertInput(batch, seq, ids, new int[ids.length], filled(ids.length, 1));
            IllegalArgumentException e = assertTimeoutRefusal(() -> model.forward(huge));
            assertTrue(e.getMessage().contains("over the cap of 2048 MiB; split the batch"), e.getMessage());
        }
    }

    private static IllegalArgumentException assertTimeoutRefusal(Executable call) {
        return org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofMinutes(1),
                () -> assertThrows(IllegalArgumentException.class, call));
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }
}
