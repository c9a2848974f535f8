package bertj.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.tokenizer.EncodeOptions;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The batcher alone: abandoned work is dropped unrun, and closing runs what was submitted. */
class BatcherTest {
    @Test
    @Timeout(60)
    void anAbandonedJobIsDroppedIfItsBatchHasNotStarted() throws Exception {
        try (Bert bert = Bert.load(TestModels.embedder())) {
            Pooling pooling = Pooling.valueOf(bert.defaultPooling().mode().name());
            Metrics metrics = new Metrics();
            int[] ids = bert.tokenizer().encode("kept", null, EncodeOptions.DEFAULT).ids();
            Batcher.Job left, kept;
            try (Batcher batcher = new Batcher(bert, pooling, 1024, metrics)) {
                batcher.hold(true);
                left = new Batcher.Job(Batcher.Kind.EMBED, false, ids, new int[ids.length]);
                kept = new Batcher.Job(Batcher.Kind.EMBED, false, ids, new int[ids.length]);
                batcher.submit(left);
                batcher.submit(kept);
                left.abandon(); // its client left while it waited
                batcher.hold(false);
                Batcher.Result r = kept.result.get(30, TimeUnit.SECONDS);
                assertArrayEquals(bert.embed(List.of("kept"), pooling, false)[0], r.pooled());
                assertThrows(CancellationException.class, () -> left.result.get(30, TimeUnit.SECONDS));
                assertEquals(0, batcher.waiting());
            }
            String text = metrics.render();
            assertTrue(text.contains("te_request_dropped 1\n"), text);
            assertTrue(text.contains("te_batch_next_size_sum 1\n"), text);
        }
    }

    @Test
    @Timeout(60)
    void closeRunsWhatWasSubmittedAndRefusesMore() throws Exception {
        try (Bert bert = Bert.load(TestModels.embedder())) {
            int[] ids = bert.tokenizer().encode("last", null, EncodeOptions.DEFAULT).ids();
            Batcher batcher = new Batcher(bert, Pooling.CLS, 1024, new Metrics());
            batcher.hold(true);
            Batcher.Job job = new Batcher.Job(Batcher.Kind.EMBED, true, ids, new int[ids.length]);
            batcher.submit(job);
            batcher.close(); // releases the hold and drains
            assertEquals(ids.length, job.result.get(30, TimeUnit.SECONDS).tokens().length);
            ApiException refused = assertThrows(ApiException.class,
                    () -> batcher.submit(new Batcher.Job(Batcher.Kind.EMBED, false, ids, new int[ids.length])));
            assertEquals(503, refused.status);
        }
    }
}
