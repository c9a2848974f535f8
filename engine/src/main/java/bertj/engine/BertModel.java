package bertj.engine;

import bertj.kernels.ThreadPool;
import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;
import bertj.loader.hub.Hub;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * {@code transformers.BertModel}: embeddings, a stack of encoder layers, and the pooler when the
 * checkpoint has one. Weights stay in the memory-mapped file (or a packed copy made once here).
 *
 * <p>Safe to use from many threads at once. {@link #close()} waits for calls in progress to finish,
 * then frees everything; calls after that fail with {@link IllegalStateException}.
 */
public final class BertModel implements AutoCloseable {

    /**
     * System property: {@code false} stops the model keeping its packed Linear weights in the cache directory
     * ({@link CacheDirectory}), which lets the next load map them instead of packing them again.
     */
    public static final String PACKED_CACHE_PROPERTY = "bertj.packedCache";

    /** Default cap on one call's working memory (batch x sequence activations): 2 GiB. */
    public static final long DEFAULT_MAX_WORKSPACE_BYTES = 2L << 30;

    private final BertConfig config;
    private final Arena weightsArena = Arena.ofShared();
    private final ModelDirectory directory;
    private final ThreadPool pool;
    private final boolean ownsPool;
    private final long maxWorkspaceBytes;
    private final BertEmbeddings embeddings;
    private final BertLayer[] layers;
    private final BertPooler pooler;
    private final Weights weights;
    private final ConcurrentLinkedDeque<Workspace> idleWorkspaces = new ConcurrentLinkedDeque<>();
    private final CallGuard guard = new CallGuard("BertModel");

    private BertModel(ModelDirectory directory, ThreadPool pool, boolean ownsPool, KernelMode mode, long maxWorkspaceBytes) {
        this.directory = directory;
        this.config = directory.config();
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.maxWorkspaceBytes = maxWorkspaceBytes;
        try {
            BertCheckpoint checkpoint = directory.bertCheckpoint();
            Ops ops = new Ops(pool, mode);
            PackedCache packedCache = mode == KernelMode.VECTOR && !"false".equals(System.getProperty(PACKED_CACHE_PROPERTY))
                    ? PackedCache.open(CacheDirectory.root(), directory.path(), checkpoint.checkpoint().files(), weightsArena)
                    : PackedCache.none();
            weights = new Weights(checkpoint, weightsArena, ops, packedCache);
            embeddings = new BertEmbeddings(config, weights);
            // Layer by layer: a num_hidden_layers beyond the checkpoint fails at its first missing tensor instead
            // of sizing an array by the config's number.
            List<BertLayer> stack = new ArrayList<>();
            for (int i = 0; i < config.numHiddenLayers(); i++) stack.add(new BertLayer(config, weights, ops, i));
            layers = stack.toArray(new BertLayer[0]);
            pooler = weights.has("pooler.dense.weight") ? new BertPooler(config.hiddenSize(), weights, ops) : null;
            packedCache.finish();
        } catch (RuntimeException e) {
            weightsArena.close();
            throw e;
        }
    }

    /**
     * Loads a model directory, or a Hugging Face Hub model by name ({@code org/name[@revision]}), fetched into the
     * shared Hugging Face cache when not there yet (see {@link Hub#locate}); an existing local path always wins.
     */
    public static BertModel load(String model) {
        return load(Hub.locate(model));
    }

    /** Loads a Hugging Face model directory with a thread pool of its own, one thread per core. */
    public static BertModel load(Path directory) {
        return load(ModelDirectory.open(directory), ThreadPool.ofAvailableCores(), true, KernelMode.VECTOR, DEFAULT_MAX_WORKSPACE_BYTES);
    }

    /** Loads a model that runs its kernels on {@code pool} (not closed with the model). */
    public static BertModel load(Path directory, ThreadPool pool) {
        return load(ModelDirectory.open(directory), pool, false, KernelMode.VECTOR, DEFAULT_MAX_WORKSPACE_BYTES);
    }

    /** Loads a model that runs the given kernel implementation on {@code pool} (not closed with the model). */
    public static BertModel load(Path directory, ThreadPool pool, KernelMode mode) {
        return load(ModelDirectory.open(directory), pool, false, mode, DEFAULT_MAX_WORKSPACE_BYTES);
    }

    static BertModel load(ModelDirectory directory, ThreadPool pool, boolean ownsPool, KernelMode mode, long maxWorkspaceBytes) {
        try {
            return new BertModel(directory, pool, ownsPool, mode, maxWorkspaceBytes);
        } catch (RuntimeException e) {
            directory.close();
            if (ownsPool) pool.close();
            throw e;
        }
    }

    public BertConfig config() {
        return config;
    }

    public ModelDirectory directory() {
        return directory;
    }

    Weights weights() {
        return weights;
    }

    ThreadPool pool() {
        return pool;
    }

    /** Fails with IllegalStateException once the model is closed. */
    void checkOpen() {
        guard.enter();
        guard.exit();
    }

    public boolean hasPooler() {
        return pooler != null;
    }

    public BertOutput forward(BertInput input) {
        return forward(input, false, false);
    }

    /**
     * Runs the encoder on a padded batch.
     *
     * @param allHiddenStates also return the embedding output and every layer's output
     * @param attentions      also return every layer's attention probabilities
     */
    public BertOutput forward(BertInput input, boolean allHiddenStates, boolean attentions) {
        checkInput(input);
        int batch = input.batch(), seqLen = input.seqLen(), tokens = input.tokens(), hidden = config.hiddenSize();
        long probsFloats = attentions ? (long) batch * config.numAttentionHeads() * seqLen * seqLen : 0;
        long bytes = Workspace.bytesFor(tokens, batch, hidden, config.intermediateSize()) + probsFloats * Float.BYTES;
        if (bytes > maxWorkspaceBytes) {
            throw new IllegalArgumentException("batch of " + batch + " x " + seqLen + " tokens needs " + (bytes >> 20)
                    + " MiB of working memory, over the cap of " + (maxWorkspaceBytes >> 20) + " MiB; split the batch");
        }
        guard.enter();
        Workspace ws = idleWorkspaces.pollFirst();
        // A shared arena's close() synchronises with every thread: only pay it when probabilities are asked for.
        Arena probsArena = attentions ? Arena.ofShared() : null;
        try {
            if (ws == null) ws = new Workspace(hidden, config.intermediateSize());
            ws.ensure(tokens, batch);
            writeAdditiveMask(input, ws.mask);
            long t = Ops.start();
            embeddings.forward(input, Workspace.floats(ws.hiddenState, (long) tokens * hidden), pool);
            Ops.record("embeddings", t);

            List<float[][][]> hiddenStates = new ArrayList<>();
            List<float[][][][]> probabilities = new ArrayList<>();
            if (allHiddenStates) hiddenStates.add(copyHidden(ws.hiddenState, batch, seqLen));
            MemorySegment probs = attentions ? probsArena.allocate(probsFloats * Float.BYTES, 64) : null;
            for (BertLayer layer : layers) {
                layer.forward(ws, batch, seqLen, probs);
                if (allHiddenStates) hiddenStates.add(copyHidden(ws.hiddenState, batch, seqLen));
                if (attentions) probabilities.add(copyProbs(probs, batch, config.numAttentionHeads(), seqLen));
            }
            float[][] pooled = null;
            if (pooler != null) {
                pooler.forward(ws, batch, seqLen);
                pooled = copyRows(ws.pooled, batch, hidden);
            }
            t = Ops.start();
            float[][][] last = allHiddenStates ? hiddenStates.getLast() : copyHidden(ws.hiddenState, batch, seqLen);
            Ops.record("copy out", t);
            return new BertOutput(last, pooled, List.copyOf(hiddenStates), List.copyOf(probabilities));
        } finally {
            if (probsArena != null) probsArena.close();
            if (ws != null) idleWorkspaces.addFirst(ws);
            guard.exit();
        }
    }

    private void checkInput(BertInput input) {
        if (input.seqLen() > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + input.seqLen() + " is longer than max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of " + directory.path() + "; truncate the input (max length "
                    + config.maxPositionEmbeddings() + ")");
        }
        embeddings.checkIds(input);
    }

    /** PyTorch's extended mask: 0 where attended, float32 min where masked, added to every score row. */
    private static void writeAdditiveMask(BertInput input, MemorySegment mask) {
        int[] attention = input.attentionMask();
        for (int i = 0; i < attention.length; i++) {
            mask.setAtIndex(ValueLayout.JAVA_FLOAT, i, attention[i] != 0 ? 0f : -Float.MAX_VALUE);
        }
    }

    private float[][][] copyHidden(MemorySegment state, int batch, int seqLen) {
        int hidden = config.hiddenSize();
        float[][][] out = new float[batch][][];
        for (int b = 0; b < batch; b++) {
            out[b] = copyRows(state.asSlice((long) b * seqLen * hidden * Float.BYTES), seqLen, hidden);
        }
        return out;
    }

    private static float[][] copyRows(MemorySegment rows, int count, int width) {
        float[][] out = new float[count][width];
        for (int r = 0; r < count; r++) {
            MemorySegment.copy(rows, ValueLayout.JAVA_FLOAT, (long) r * width * Float.BYTES, out[r], 0, width);
        }
        return out;
    }

    private static float[][][][] copyProbs(MemorySegment probs, int batch, int heads, int seqLen) {
        float[][][][] out = new float[batch][heads][][];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                long offset = ((long) b * heads + h) * seqLen * seqLen * Float.BYTES;
                out[b][h] = copyRows(probs.asSlice(offset), seqLen, seqLen);
            }
        }
        return out;
    }

    /**
     * Time per kind of op (embeddings, each Linear shape, attention, add + layer norm, copy out) summed
     * over the calls since the last {@link #resetProfile()}, in nanoseconds; empty unless the JVM runs with
     * {@code -Dbertj.profile=true}.
     */
    public static java.util.Map<String, Long> profile() {
        return Ops.profile();
    }

    public static void resetProfile() {
        Ops.resetProfile();
    }

    /** Waits for calls in progress, then frees the weights, the working memory and (if owned) the thread pool. */
    @Override
    public void close() {
        if (!guard.closeAndAwait()) return;
        Workspace ws;
        while ((ws = idleWorkspaces.pollFirst()) != null) ws.close();
        weightsArena.close();
        directory.close();
        if (ownsPool) pool.close();
    }
}
