package bertj.kernels;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed pool of daemon threads that runs {@code parallelFor} loops, with the calling thread taking part.
 *
 * <p>One loop runs at a time: concurrent callers queue on a lock, and a {@code parallelFor} issued from
 * inside a running body (by the caller or a worker) runs inline on that thread, so nesting cannot
 * deadlock. Tasks are handed out one index at a time from a shared counter, so uneven tasks balance.
 * Waiting threads (idle workers, a caller whose tasks are done) spin for 20 us, since the kernels of one
 * forward pass follow each other within microseconds, then yield their core for a while (in case the
 * machine is oversubscribed and the thread they wait for needs it), then park. The pool itself
 * allocates nothing per call.
 */
public final class ThreadPool implements AutoCloseable {

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock submitLock = new ReentrantLock();

    // The current loop. `body` and `tasks` are written by the submitter before `unclaimed` is set (a
    // volatile write), and read by a thread only after it has claimed a task of that loop, so they cannot
    // belong to another loop: the loop cannot end while one of its tasks is claimed and unfinished.
    private IntConsumer body;
    private int tasks;
    private volatile int generation;
    /** (generation << 32) | tasks not yet claimed: a thread can only claim a task of the loop it saw start. */
    private final AtomicLong unclaimed = new AtomicLong();
    private final AtomicInteger unfinished = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Thread waitingCaller;
    private volatile boolean closed;

    /**
     * @param threads total threads that run a loop, the caller included; 1 means the caller alone
     */
    public ThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("ThreadPool threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("bertj-kernels-" + (i + 1));
            workers[i].start();
        }
    }

    /** A pool with one thread per available processor. */
    public static ThreadPool ofAvailableCores() {
        return new ThreadPool(Runtime.getRuntime().availableProcessors());
    }

    /** Total threads that run a loop, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)} across the pool and returns when
     * all have finished. If bodies throw, the remaining tasks are skipped and the first exception is
     * rethrown here (checked ones wrapped in a {@link RuntimeException}).
     */
    public void parallelFor(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("parallelFor tasks must be >= 0, got " + tasks);
        }
        if (closed) {
            throw new IllegalStateException("ThreadPool is closed");
        }
        if (tasks == 0) {
            return;
        }
        if (tasks == 1 || workers.length == 0 || submitLock.isHeldByCurrentThread() || isOwnWorker()) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        submitLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("ThreadPool is closed");
            }
            runLoop(tasks, body);
        } finally {
            submitLock.unlock();
        }
    }

    /**
     * Fails with a message naming {@code name} if the pool's threads cannot access {@code segment} (it was
     * allocated in a confined arena).
     */
    void requireAccessible(String name, MemorySegment segment) {
        if (workers.length > 0 && !segment.isAccessibleBy(workers[0])) {
            throw new IllegalArgumentException(name + " is confined to one thread, but the pool's threads must "
                    + "access it: allocate it in a shared arena (Arena.ofShared(), global() or ofAuto())");
        }
    }

    private boolean isOwnWorker() {
        return Thread.currentThread() instanceof Worker w && w.pool() == this;
    }

    private void runLoop(int tasks, IntConsumer body) {
        this.body = body;
        this.tasks = tasks;
        failure.set(null);
        unfinished.set(tasks);
        int gen = generation + 1;
        unclaimed.set((long) gen << 32 | tasks);
        generation = gen;
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w);
            }
        }
        runTasks(gen);
        awaitUnfinished();
        this.body = null;
        Throwable t = failure.getAndSet(null);
        if (t != null) {
            switch (t) {
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                default -> throw new RuntimeException(t);
            }
        }
    }

    /** Claims and runs tasks of loop {@code gen} until none are left. */
    private void runTasks(int gen) {
        while (true) {
            long claim = unclaimed.get();
            int left = (int) claim;
            if ((int) (claim >>> 32) != gen || left == 0) {
                return;
            }
            if (!unclaimed.compareAndSet(claim, claim - 1)) {
                continue;
            }
            int index = tasks - left; // ascending order
            if (failure.get() == null) {
                try {
                    body.accept(index);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
            if (unfinished.decrementAndGet() == 0) {
                Thread caller = waitingCaller;
                if (caller != null) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /**
     * One step of a wait that began at {@code start}: spin at first (the answer usually comes within
     * microseconds), then yield, so that a thread we wait for can run if the machine is oversubscribed.
     * Returns false once it is time to park.
     */
    private static boolean pause(long start) {
        long waited = System.nanoTime() - start;
        if (waited < Tuning.SPIN_NANOS) {
            Thread.onSpinWait();
        } else if (waited < Tuning.WAIT_NANOS) {
            Thread.yield();
        } else {
            return false;
        }
        return true;
    }

    private void awaitUnfinished() {
        long start = System.nanoTime();
        while (unfinished.get() != 0) {
            if (!pause(start)) {
                waitingCaller = Thread.currentThread();
                if (unfinished.get() != 0) {
                    LockSupport.park(this);
                }
                waitingCaller = null;
            }
        }
    }

    /** Stops the workers once the running loop (if any) has finished. Idempotent. */
    @Override
    public void close() {
        submitLock.lock();
        try {
            closed = true;
        } finally {
            submitLock.unlock();
        }
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        ThreadPool pool() {
            return ThreadPool.this;
        }

        @Override
        public void run() {
            int seen = 0;
            while (!closed) {
                int gen = generation;
                if (gen != seen) {
                    seen = gen;
                    runTasks(gen);
                    continue;
                }
                long start = System.nanoTime();
                boolean waiting = true;
                while (generation == seen && !closed && waiting) {
                    waiting = pause(start);
                }
                if (generation == seen && !closed) {
                    parked = true;
                    if (generation == seen && !closed) {
                        LockSupport.park(ThreadPool.this);
                    }
                    parked = false;
                }
            }
        }
    }
}
