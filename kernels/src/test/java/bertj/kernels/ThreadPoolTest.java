package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadPoolTest {
    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads = 1; threads <= 4; threads++) {
            try (ThreadPool pool = new ThreadPool(threads)) {
                for (int tasks : new int[] {0, 1, 2, 3, 7, 100, 1000}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(tasks, 1));
                    pool.parallelFor(tasks, runs::incrementAndGet);
                    for (int i = 0; i < tasks; i++) {
                        assertEquals(1, runs.get(i), "threads " + threads + " tasks " + tasks + " index " + i);
                    }
                }
            }
        }
    }

    @Test
    void manyCallersAtOnceOnOnePool() throws Exception {
        try (ThreadPool pool = new ThreadPool(3); ExecutorService callers = Executors.newFixedThreadPool(8)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int caller = c;
                futures.add(callers.submit(() -> {
                    start.await();
                    for (int round = 0; round < 300; round++) {
                        int tasks = 1 + (caller * 7 + round) % 40;
                        AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                        pool.parallelFor(tasks, runs::incrementAndGet);
                        for (int i = 0; i < tasks; i++) {
                            assertEquals(1, runs.get(i), "caller " + caller + " round " + round + " index " + i);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (ThreadPool pool = new ThreadPool(2)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(10 * 10);
            pool.parallelFor(10, outer -> pool.parallelFor(10, inner -> runs.incrementAndGet(outer * 10 + inner)));
            for (int i = 0; i < 100; i++) {
                assertEquals(1, runs.get(i));
            }
        }
    }

    @Test
    void firstExceptionPropagatesAndThePoolStaysUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.parallelFor(50, i -> {
                if (i == 17) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            AtomicIntegerArray runs = new AtomicIntegerArray(5);
            pool.parallelFor(5, runs::incrementAndGet);
            for (int i = 0; i < 5; i++) {
                assertEquals(1, runs.get(i));
            }
        }
    }

    @Test
    void rejectsBadArgumentsAndUseAfterClose() {
        assertThrows(IllegalArgumentException.class, () -> new ThreadPool(0));
        ThreadPool pool = new ThreadPool(2);
        assertEquals(2, pool.threads());
        assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(-1, i -> { }));
        pool.close();
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.parallelFor(3, i -> { }));
    }

    @Test
    void sizedToTheMachine() {
        try (ThreadPool pool = ThreadPool.ofAvailableCores()) {
            assertEquals(Runtime.getRuntime().availableProcessors(), pool.threads());
        }
    }
}
