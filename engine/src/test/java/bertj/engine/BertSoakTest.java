package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.ThreadPool;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A sustained run of 16 threads sharing one set of models (a plain encoder and the three task heads, on one
 * kernel pool), each thread making a random mix of calls: embeddings of texts of every length in batches of 1 to
 * 12, encoder outputs with all hidden states, classification, entities, question answering. Every result must be
 * bit for bit the one the same call gives alone on one thread, from a cold start (the kernels sum vector lanes
 * in a fixed order, so code the JIT compiles mid-run gives the same bits as before); no call may fail or hang;
 * the heap and the memory outside it (the models' working memory lives there, and no JDK buffer pool counts it)
 * must not grow between the middle and the end of the run. {@code -Dbertj.soak.seconds=N} sets the length
 * (default 8 s).
 */
class BertSoakTest {
    private static final int THREADS = 16;
    private static final long SOAK_SECONDS = Long.getLong("bertj.soak.seconds", 8);
    /**
     * Growth allowed over the second half of the run, when every pool (workspaces for 16 calls in flight, JIT code)
     * has long reached its size: a leak of even a kilobyte per call would exceed it.
     */
    private static final long MAX_HEAP_GROWTH = 16L << 20, MAX_OFF_HEAP_GROWTH = 24L << 20;

    /** One kind of call, its name for messages. */
    private record Call(String name, Supplier<Object> run) {
    }

    @Test
    void sixteenThreadsGetTheBitsOneThreadGets() throws Exception {
        try (ThreadPool pool = ThreadPool.ofAvailableCores();
             Bert plain = Bert.load(BertReliabilityTest.model("tiny-bert"), pool);
             Bert seqcls = Bert.load(BertReliabilityTest.model("tiny-bert-seqcls"), pool);
             Bert tokcls = Bert.load(BertReliabilityTest.model("tiny-bert-tokcls"), pool);
             Bert qa = Bert.load(BertReliabilityTest.model("tiny-bert-qa"), pool)) {
            List<Call> calls = calls(plain, seqcls, tokcls, qa);
            List<String> expected = new ArrayList<>();
            for (Call c : calls) expected.add(fingerprint(c.run.get()));

            Memory start = Memory.measure();
            long firstHalf = run(calls, expected, (SOAK_SECONDS + 1) / 2);
            Memory middle = Memory.measure();
            long secondHalf = run(calls, expected, SOAK_SECONDS / 2);
            Memory end = Memory.measure();

            System.out.printf("soak: %d threads, %d calls of %d kinds in %d s, all bit-identical to the same call on one thread%n",
                    THREADS, firstHalf + secondHalf, calls.size(), SOAK_SECONDS);
            System.out.printf("soak memory at the start: %s%n           in the middle: %s%n           at the end:    %s%n",
                    start, middle, end);
            assertTrue(end.heapUsed - middle.heapUsed < MAX_HEAP_GROWTH, "heap grew from " + middle + " to " + end);
            assertTrue(end.offHeapResident - middle.offHeapResident < MAX_OFF_HEAP_GROWTH,
                    "memory outside the heap grew from " + middle + " to " + end);
        }
    }

    /** About 40 calls over every entry point and a spread of lengths and batch sizes. */
    private static List<Call> calls(Bert plain, Bert seqcls, Bert tokcls, Bert qa) {
        List<String> texts = List.of("a", "Hello, world!", "BERT is a powerful transformer model.",
                "My name is John Doe, and I live in New York City.", "東京は日本の首都です。", "Café déjà vu — naïve façade.",
                "Unbelievably, the tokenization of hyperparameterization works.", "word ".repeat(30), "word ".repeat(200),
                "The quick brown fox jumps over the lazy dog. ".repeat(4), "", "😀 emoji and \uD800 a lone surrogate");
        List<Call> calls = new ArrayList<>();
        for (String t : texts) calls.add(new Call("embed " + abbreviate(t), () -> plain.embed(t)));
        Random random = new Random(7);
        for (int size : new int[] {2, 3, 5, 8, 12}) {
            List<String> batch = new ArrayList<>();
            for (int i = 0; i < size; i++) batch.add(texts.get(random.nextInt(texts.size())));
            calls.add(new Call("embed batch of " + size, () -> plain.embed(batch, Pooling.MEAN, true)));
        }
        calls.add(new Call("encode pair, all layers", () -> plain.encode(List.of("A question?", "Short"),
                List.of("An answer.", "and a longer second sequence here"), true).output()));
        calls.add(new Call("encode batch", () -> plain.encode(texts.subList(0, 7), null, false).output()));
        calls.add(new Call("similarity", () -> plain.similarity("A man is playing a guitar.", "Someone is making music.")));
        for (String t : texts.subList(1, 8)) {
            calls.add(new Call("classify " + abbreviate(t), () -> seqcls.classify(t, null, true)));
            calls.add(new Call("entities " + abbreviate(t), () -> tokcls.entities(t, true)));
        }
        calls.add(new Call("classify pair", () -> seqcls.classify("The movie was great.", "I loved it.", true)));
        String context = "The quick brown fox jumps over the lazy dog near the river bank in Paris. ".repeat(8);
        calls.add(new Call("answer short", () -> qa.answer("Who lives in New York?", "My name is John Doe, and I live in New York City.")));
        calls.add(new Call("answer over windows", () -> qa.answer("Where does the fox jump?", context)));
        return calls;
    }

    /**
     * 16 threads making random calls for {@code seconds}; returns the number of calls. Fails on an error, a hang,
     * or (unless {@code expected} is null) a result that differs from the expected one in any bit.
     */
    private static long run(List<Call> calls, List<String> expected, long seconds) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        AtomicLong made = new AtomicLong();
        ConcurrentLinkedQueue<String> mismatches = new ConcurrentLinkedQueue<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Random random = new Random(t);
                workers.add(threads.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        int i = random.nextInt(calls.size());
                        Object result = calls.get(i).run.get();
                        if (expected != null && !fingerprint(result).equals(expected.get(i)) && mismatches.size() < 10) {
                            mismatches.add(calls.get(i).name);
                        }
                        made.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                try {
                    w.get(seconds + 120, TimeUnit.SECONDS); // a hang guard, far beyond any call
                } catch (TimeoutException e) {
                    throw new AssertionError("a call did not return (deadlock?); threads:\n" + threadDump(), e);
                }
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(List.of(), List.copyOf(mismatches), "calls whose concurrent result differs from the sequential one");
        return made.get();
    }

    private static String threadDump() {
        StringBuilder sb = new StringBuilder();
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) sb.append(info);
        return sb.toString();
    }

    /**
     * Heap in use after a GC; resident memory in all and outside the heap's reservation (from /proc/self/smaps:
     * -1 without it); the JDK's direct and mapped buffer pools (the models' working memory is in neither).
     */
    private record Memory(long heapUsed, long rss, long offHeapResident, long direct, long mapped) {
        static Memory measure() throws Exception {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(50);
            }
            long direct = 0, mapped = 0;
            for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (b.getName().equals("direct")) direct = b.getMemoryUsed();
                if (b.getName().equals("mapped")) mapped = b.getMemoryUsed();
            }
            long[] resident = residentBytes();
            return new Memory(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), resident[0], resident[1],
                    direct, mapped);
        }

        /**
         * {total, outside the heap} resident bytes from /proc/self/smaps. The heap is the run of adjacent anonymous
         * mappings that spans the maximum heap size (its reservation: committed and uncommitted parts); leaving it
         * out keeps the heap's growing and shrinking between collections out of the off-heap figure.
         */
        private static long[] residentBytes() throws Exception {
            Path smaps = Path.of("/proc/self/smaps");
            if (!Files.exists(smaps)) return new long[] {-1, -1};
            record Mapping(long start, long end, boolean anonymous, long rss) {
            }
            List<Mapping> mappings = new ArrayList<>();
            long start = 0, end = 0;
            boolean anonymous = false;
            for (String line : Files.readAllLines(smaps)) {
                String[] f = line.trim().split("\\s+");
                if (f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                    String[] range = f[0].split("-");
                    start = Long.parseUnsignedLong(range[0], 16);
                    end = Long.parseUnsignedLong(range[1], 16);
                    anonymous = f.length < 6 && f[4].equals("0");
                } else if (f[0].equals("Rss:")) {
                    mappings.add(new Mapping(start, end, anonymous, Long.parseLong(f[1]) * 1024));
                }
            }
            long total = 0, heap = 0, heapError = Long.MAX_VALUE, max = Runtime.getRuntime().maxMemory();
            for (int i = 0; i < mappings.size(); i++) {
                total += mappings.get(i).rss;
                if (!mappings.get(i).anonymous) continue;
                long rss = 0;
                for (int j = i; j < mappings.size() && mappings.get(j).anonymous
                        && (j == i || mappings.get(j).start == mappings.get(j - 1).end); j++) {
                    rss += mappings.get(j).rss;
                    long error = Math.abs(mappings.get(j).end - mappings.get(i).start - max);
                    if (error < heapError) {
                        heapError = error;
                        heap = rss;
                    }
                }
            }
            return new long[] {total, heapError < 64L << 20 ? total - heap : -1};
        }

        @Override
        public String toString() {
            return String.format("heap used %.1f MiB; resident %.1f MiB, of which outside the heap %.1f MiB; direct buffers "
                    + "%.1f MiB, mapped buffers %.1f MiB", heapUsed / 1048576.0, rss / 1048576.0, offHeapResident / 1048576.0,
                    direct / 1048576.0, mapped / 1048576.0);
        }
    }

    /** A digest of every bit of a result: floats and doubles by their raw bits, records and collections deeply. */
    static String fingerprint(Object result) {
        StringBuilder sb = new StringBuilder();
        append(sb, result);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void append(StringBuilder sb, Object o) {
        switch (o) {
            case null -> sb.append("null");
            case float[] a -> { for (float v : a) sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(','); }
            case double[] a -> { for (double v : a) sb.append(Long.toHexString(Double.doubleToRawLongBits(v))).append(','); }
            case int[] a -> { for (int v : a) sb.append(v).append(','); }
            case Float f -> sb.append(Integer.toHexString(Float.floatToRawIntBits(f)));
            case Double d -> sb.append(Long.toHexString(Double.doubleToRawLongBits(d)));
            case Object[] a -> { sb.append('['); for (Object e : a) append(sb, e); sb.append(']'); }
            case Collection<?> c -> { sb.append('['); for (Object e : c) append(sb, e); sb.append(']'); }
            case Map<?, ?> m -> { sb.append('{'); m.forEach((k, v) -> { append(sb, k); sb.append(':'); append(sb, v); }); sb.append('}'); }
            case Record r -> {
                sb.append(r.getClass().getSimpleName()).append('(');
                for (RecordComponent c : r.getClass().getRecordComponents()) {
                    try {
                        append(sb, c.getAccessor().invoke(r));
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                    sb.append(';');
                }
                sb.append(')');
            }
            default -> sb.append(o);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 24 ? s : s.substring(0, 21) + "...";
    }
}
