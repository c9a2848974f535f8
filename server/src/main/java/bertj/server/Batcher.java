package bertj.server;

import bertj.engine.Bert;
import bertj.engine.PackedInput;
import bertj.engine.Pooling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dynamic batching: requests' sequences, tokenized on arrival, wait in one queue; one thread takes them in order of
 * arrival into batches of at most {@code maxBatchTokens} tokens and runs each batch as one forward.
 *
 * <p>Embeddings run packed without padding ({@link bertj.engine.BertModel#forward(PackedInput, bertj.engine.BertModel.SequenceOutput)}),
 * classifications too, through the head ({@link Bert#sequenceLogits(PackedInput)}).
 * Either way the engine computes every sequence as it would alone, so an answer has the same bits whatever it was
 * batched with. The queue holds at most one entry per admitted input: the server admits a bounded number.
 */
final class Batcher implements AutoCloseable {
    /** The forward a job needs: the encoder's rows (embeddings) or the classification head's logits. */
    enum Kind { EMBED, CLASSIFY }

    /** One sequence's work. {@link #abandon()} drops it if its batch has not started. */
    static final class Job {
        final Kind kind;
        final boolean allTokens; // EMBED: every token's last hidden state instead of the pooled vector
        final int[] ids, typeIds;
        final CompletableFuture<Result> result = new CompletableFuture<>();
        private final long enqueuedNanos = System.nanoTime();
        private volatile boolean abandoned;

        Job(Kind kind, boolean allTokens, int[] ids, int[] typeIds) {
            this.kind = kind;
            this.allTokens = allTokens;
            this.ids = ids;
            this.typeIds = typeIds;
        }

        void abandon() {
            abandoned = true;
        }
    }

    /**
     * A job's output: the pooled vector (not normalised), every token's hidden state, or the classifier's logits;
     * and how long it waited and its batch ran.
     */
    record Result(float[] pooled, float[][] tokens, float[] logits, long queueNanos, long inferenceNanos) {
    }

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final Bert bert;
    private final Pooling pooling;
    private final int maxBatchTokens;
    private final Metrics metrics;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    /** Jobs submitted and not yet run (in the queue or taken from it). */
    private final AtomicInteger waiting = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;
    // Tests hold batches back to fill the queue.
    private final Object gate = new Object();
    private boolean held;

    Batcher(Bert bert, Pooling pooling, int maxBatchTokens, Metrics metrics) {
        this.bert = bert;
        this.pooling = pooling;
        this.maxBatchTokens = maxBatchTokens;
        this.metrics = metrics;
        metrics.gauge("te_queue_size", "Sequences waiting for a batch", waiting::get);
        // a platform thread: it drives the engine's own worker threads for the whole of each forward
        this.thread = Thread.ofPlatform().daemon().name("bertj-batcher").start(this::loop);
    }

    void submit(Job job) {
        if (!running) throw new ApiException(ApiException.Type.Unhealthy, "the server is shutting down");
        waiting.incrementAndGet();
        queue.add(job);
    }

    /** Sequences submitted and not yet run. */
    int waiting() {
        return waiting.get();
    }

    /** For tests: while held, no batch starts. */
    void hold(boolean hold) {
        synchronized (gate) {
            held = hold;
            gate.notifyAll();
        }
    }

    private void loop() {
        List<Job> pending = new ArrayList<>(); // taken from the queue, in order of arrival
        while (running || !queue.isEmpty() || !pending.isEmpty()) {
            try {
                if (pending.isEmpty()) {
                    Job first = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    pending.add(first);
                }
                synchronized (gate) {
                    while (held) gate.wait();
                }
            } catch (InterruptedException e) {
                continue; // nothing interrupts this thread; the loop ends when closed and drained
            }
            queue.drainTo(pending);
            List<Job> batch = nextBatch(pending);
            if (!batch.isEmpty()) run(batch);
        }
    }

    /** The oldest job and those after it of the same kind, while they fit; drops abandoned jobs. */
    private List<Job> nextBatch(List<Job> pending) {
        List<Job> batch = new ArrayList<>();
        long tokens = 0;
        for (Iterator<Job> it = pending.iterator(); it.hasNext(); ) {
            Job job = it.next();
            if (job.abandoned) {
                it.remove();
                waiting.decrementAndGet();
                job.result.completeExceptionally(new CancellationException("the client left"));
                metrics.increment("te_request_dropped", "Sequences dropped unrun because their client left");
                continue;
            }
            if (!batch.isEmpty() && job.kind != batch.getFirst().kind) continue;
            int length = job.ids.length;
            // a packed batch costs its tokens, with no padding
            if (!batch.isEmpty() && tokens + length > maxBatchTokens) break;
            batch.add(job);
            it.remove();
            tokens += length;
        }
        return batch;
    }

    private void run(List<Job> batch) {
        long start = System.nanoTime();
        List<int[]> ids = new ArrayList<>(batch.size()), types = new ArrayList<>(batch.size());
        int tokens = 0;
        for (Job job : batch) {
            ids.add(job.ids);
            types.add(job.typeIds);
            tokens += job.ids.length;
        }
        float[][] pooled = new float[batch.size()][];
        float[][][] all = new float[batch.size()][][];
        float[][] logits = null;
        try {
            if (batch.getFirst().kind == Kind.EMBED) {
                int hidden = bert.model().config().hiddenSize();
                bert.model().forward(PackedInput.of(ids, types), (s, rows, pooler) -> {
                    int length = ids.get(s).length;
                    if (batch.get(s).allTokens) all[s] = copyRows(rows, length, hidden);
                    else pooled[s] = pooling.pool(rows, length, hidden);
                });
            } else {
                logits = bert.sequenceLogits(PackedInput.of(ids, types));
            }
        } catch (RuntimeException | Error e) {
            waiting.addAndGet(-batch.size());
            for (Job job : batch) job.result.completeExceptionally(e);
            return;
        }
        long end = System.nanoTime();
        waiting.addAndGet(-batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Job job = batch.get(i);
            job.result.complete(new Result(pooled[i], all[i], logits == null ? null : logits[i], start - job.enqueuedNanos, end - start));
        }
        metrics.observe("te_batch_next_size", "Sequences per batch", Metrics.SIZE_BUCKETS, batch.size());
        metrics.observe("te_batch_next_tokens", "Tokens per batch", Metrics.TOKEN_BUCKETS, tokens);
        metrics.observe("te_batch_inference_duration", "Seconds per batch's forward", Metrics.DURATION_BUCKETS, (end - start) / 1e9);
    }

    private static float[][] copyRows(MemorySegment rows, int length, int hidden) {
        float[][] out = new float[length][hidden];
        for (int t = 0; t < length; t++) MemorySegment.copy(rows, FLOAT, (long) t * hidden * Float.BYTES, out[t], 0, hidden);
        return out;
    }

    /** Stops taking jobs, runs those already submitted, then returns. */
    @Override
    public void close() {
        running = false;
        hold(false);
        try {
            thread.join(); // not interrupted: that could break the forward under way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // a job submitted while closing, after the loop's last look
        for (Job job; (job = queue.poll()) != null; ) {
            job.result.completeExceptionally(new ApiException(ApiException.Type.Unhealthy, "the server is shutting down"));
        }
    }
}
