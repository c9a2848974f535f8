package bertj.engine;

import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import bertj.loader.BertCheckpoint;
import bertj.loader.BertConfig;
import bertj.loader.CacheDirectory;
import bertj.loader.DType;
import bertj.loader.ModelDirectory;
import bertj.loader.hub.Hub;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

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
    /** The kernels this model runs, picked at load from its {@link KernelMode}. */
    private final Kernels kernels;
    /** {@link #kernels}' exact float twins, for the JVM's first small forwards (see {@link #kernelsFor}). */
    private final Kernels twinKernels;
    /** Multiply-adds of the Linear layers per token. */
    private final long macsPerToken;
    /** How the Linear weights are stored for the kernels. */
    private final Precision precision;
    private final AtomicInteger twinForwardsLeft = new AtomicInteger(TWIN_FORWARDS);
    private final ConcurrentLinkedDeque<Workspace> idleWorkspaces = new ConcurrentLinkedDeque<>();
    private final CallGuard guard = new CallGuard("BertModel");

    private BertModel(ModelDirectory directory, ThreadPool pool, boolean ownsPool, KernelMode mode, Precision precision,
            long maxWorkspaceBytes) {
        this.directory = directory;
        this.config = directory.config();
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.maxWorkspaceBytes = maxWorkspaceBytes;
        try {
            BertCheckpoint checkpoint = directory.bertCheckpoint();
            this.precision = precision != null ? precision : storedPrecision(checkpoint);
            Kernels kernels = Kernels.of(mode, pool);
            PackedCache packedCache = mode == KernelMode.VECTOR && !"false".equals(System.getProperty(PACKED_CACHE_PROPERTY))
                    ? PackedCache.open(CacheDirectory.root(), directory.path(), checkpoint.checkpoint().files(), weightsArena,
                            this.precision)
                    : PackedCache.none(this.precision);
            weights = new Weights(checkpoint, weightsArena, kernels, packedCache);
            embeddings = new BertEmbeddings(config, weights);
            // Layer by layer: a num_hidden_layers beyond the checkpoint fails at its first missing tensor instead
            // of sizing an array by the config's number.
            List<BertLayer> stack = new ArrayList<>();
            for (int i = 0; i < config.numHiddenLayers(); i++) stack.add(new BertLayer(config, weights, i));
            layers = stack.toArray(new BertLayer[0]);
            pooler = weights.has("pooler.dense.weight") ? new BertPooler(config.hiddenSize(), weights) : null;
            this.kernels = kernels;
            twinKernels = kernels.simdTwins();
            macsPerToken = (long) config.numHiddenLayers() * (4L * config.hiddenSize() + 2L * config.intermediateSize()) * config.hiddenSize();
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
        return load(directory, (Precision) null);
    }

    /**
     * {@link #load(Path)}, its Linear weights in {@code precision}: rounded to it when the checkpoint's are more
     * precise; null for the precision the checkpoint stores them in (bf16 for a BF16 checkpoint, whose weights
     * then give the same results as in fp32; fp32 otherwise).
     */
    public static BertModel load(Path directory, Precision precision) {
        return load(ModelDirectory.open(directory), ThreadPool.ofAvailableCores(), true, KernelMode.VECTOR, precision,
                DEFAULT_MAX_WORKSPACE_BYTES);
    }

    /** Loads a model that runs its kernels on {@code pool} (not closed with the model). */
    public static BertModel load(Path directory, ThreadPool pool) {
        return load(ModelDirectory.open(directory), pool, false, KernelMode.VECTOR, DEFAULT_MAX_WORKSPACE_BYTES);
    }

    /** Loads a model that runs the given kernel implementation on {@code pool} (not closed with the model). */
    public static BertModel load(Path directory, ThreadPool pool, KernelMode mode) {
        return load(directory, pool, mode, null);
    }

    /**
     * Loads a model that runs the given kernel implementation on {@code pool} (not closed with the model), its
     * Linear weights in {@code precision} (null: as the checkpoint stores them, see {@link #load(Path, Precision)}).
     */
    public static BertModel load(Path directory, ThreadPool pool, KernelMode mode, Precision precision) {
        return load(ModelDirectory.open(directory), pool, false, mode, precision, DEFAULT_MAX_WORKSPACE_BYTES);
    }

    static BertModel load(ModelDirectory directory, ThreadPool pool, boolean ownsPool, KernelMode mode, long maxWorkspaceBytes) {
        return load(directory, pool, ownsPool, mode, null, maxWorkspaceBytes);
    }

    static BertModel load(ModelDirectory directory, ThreadPool pool, boolean ownsPool, KernelMode mode, Precision precision,
            long maxWorkspaceBytes) {
        try {
            if (mode == KernelMode.VECTOR) {
                JvmFlags.requireVectorModule();
                JvmFlags.warnOnceWithoutNativeAccess();
            }
            return new BertModel(directory, pool, ownsPool, mode, precision, maxWorkspaceBytes);
        } catch (RuntimeException e) {
            directory.close();
            if (ownsPool) pool.close();
            throw e;
        }
    }

    public BertConfig config() {
        return config;
    }

    /** How the Linear weights are stored for the kernels. */
    public Precision precision() {
        return precision;
    }

    /**
     * The precision the checkpoint stores its first query weight in: bf16 for BF16, int8 for I8 ({@code bertj
     * quantize}), else fp32 (F32, or F16 widened exactly). Run in it, the weights are used exactly as stored. Only
     * the stored dtype is read: the layers' own loading checks the tensor (and a config of no layers asks for none).
     */
    private static Precision storedPrecision(BertCheckpoint checkpoint) {
        return checkpoint.resolve("encoder.layer.0.attention.self.query.weight")
                .map(name -> switch (checkpoint.checkpoint().tensor(name).dtype()) {
                    case BF16 -> Precision.BF16;
                    case I8 -> Precision.INT8;
                    // F16 too is widened exactly to float32 at load: float16 weights run slower than float32 here
                    // (BENCHMARKS, "Reduced precision"); Precision.F16 keeps their bits at rest, at half the memory.
                    default -> Precision.FP32;
                })
                .orElse(Precision.FP32);
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

    public boolean hasPooler() {
        return pooler != null;
    }

    public BaseModelOutputWithPooling forward(BertInput input) {
        return forward(input, false, false);
    }

    /**
     * Runs the encoder on a padded batch, padding rows included, as {@code transformers.BertModel} does.
     *
     * @param allHiddenStates also return the embedding output and every layer's output
     * @param attentions      also return every layer's attention probabilities
     */
    public BaseModelOutputWithPooling forward(BertInput input, boolean allHiddenStates, boolean attentions) {
        Sequences sequences = Sequences.of(input);
        checkInput(sequences, input.seqLen());
        int batch = input.batch(), seqLen = input.seqLen(), hidden = config.hiddenSize();
        long probsFloats = attentions ? (long) batch * config.numAttentionHeads() * seqLen * seqLen : 0;
        Workspace ws = acquire(sequences, probsFloats, batch + " x " + seqLen + " tokens");
        // A shared arena's close() synchronises with every thread: only pay it when probabilities are asked for.
        Arena probsArena = attentions ? Arena.ofShared() : null;
        try {
            Kernels kernels = kernelsFor(sequences);
            embeddings(sequences, ws);
            List<float[][][]> hiddenStates = new ArrayList<>();
            List<float[][][][]> probabilities = new ArrayList<>();
            if (allHiddenStates) hiddenStates.add(copyHidden(ws.hiddenState(), batch, seqLen));
            MemorySegment probs = attentions ? probsArena.allocate(probsFloats * Float.BYTES, 64) : null;
            for (BertLayer layer : layers) {
                layer.forward(kernels, ws, sequences, probs);
                if (allHiddenStates) hiddenStates.add(copyHidden(ws.hiddenState(), batch, seqLen));
                if (attentions) probabilities.add(copyProbs(probs, batch, config.numAttentionHeads(), seqLen));
            }
            float[][] pooled = null;
            if (pooler != null) {
                pooler.forward(kernels, ws, sequences.starts());
                pooled = copyRows(ws.pooled(), batch, hidden);
            }
            long t = Profile.start();
            float[][][] last = allHiddenStates ? hiddenStates.getLast() : copyHidden(ws.hiddenState(), batch, seqLen);
            Profile.record("copy out", t);
            return new BaseModelOutputWithPooling(last, pooled, List.copyOf(hiddenStates), List.copyOf(probabilities));
        } finally {
            if (probsArena != null) probsArena.close();
            release(ws);
        }
    }

    /** What {@link #forward(PackedInput, SequenceOutput)} hands over for each sequence. */
    @FunctionalInterface
    public interface SequenceOutput {
        /**
         * @param sequence        its index in the input
         * @param lastHiddenState its {@code [length, hidden]} rows, read-only, valid only during this call
         * @param pooled          its pooler output {@code [hidden]}, read-only and valid only during this call,
         *                        or null when the checkpoint has no pooler
         */
        void accept(int sequence, MemorySegment lastHiddenState, MemorySegment pooled);
    }

    /**
     * Runs the encoder on sequences packed without padding and hands each one's outputs to {@code output}, in
     * order, straight from the working memory: nothing is copied or allocated per token. Each sequence gets the
     * same bits as alone or in a padded batch.
     */
    public void forward(PackedInput input, SequenceOutput output) {
        Sequences sequences = Sequences.of(input);
        checkInput(sequences, sequences.longest());
        Workspace ws = acquire(sequences, 0, sequences.count() + " sequences of " + sequences.tokens() + " tokens in all");
        try {
            embeddings(sequences, ws);
            Kernels kernels = kernelsFor(sequences);
            for (BertLayer layer : layers) layer.forward(kernels, ws, sequences, null);
            if (pooler != null) pooler.forward(kernels, ws, sequences.starts());
            long rowBytes = (long) config.hiddenSize() * Float.BYTES;
            for (int s = 0; s < sequences.count(); s++) {
                MemorySegment rows = ws.hiddenState().asSlice(sequences.starts()[s] * rowBytes, sequences.length(s) * rowBytes);
                MemorySegment pooled = pooler == null ? null : ws.pooled().asSlice(s * rowBytes, rowBytes).asReadOnly();
                output.accept(s, rows.asReadOnly(), pooled);
            }
        } finally {
            release(ws);
        }
    }

    /**
     * The SIMD kernels, or for a model's first {@link #TWIN_FORWARDS} forwards of at most {@link #TWIN_MACS}
     * multiply-adds their exact scalar twins. Until C2 has compiled them, the SIMD kernels run Vector API calls
     * as heap objects, a hundred times slower than plain float arithmetic: a one-shot command's single forward
     * took a second or more there. The twins give the same bits. With {@link #SIMD_TWINS_PROPERTY}
     * {@code =always}, every forward runs on them (for a JVM without C2).
     */
    private Kernels kernelsFor(Sequences sequences) {
        if (twinKernels == kernels) return kernels;
        if (ALWAYS_TWINS) return twinKernels;
        if ((long) sequences.tokens() * macsPerToken > TWIN_MACS) return kernels;
        return twinForwardsLeft.get() > 0 && twinForwardsLeft.getAndDecrement() > 0 ? twinKernels : kernels;
    }

    /**
     * System property: {@code always} runs every forward on the SIMD kernels' scalar twins (the same bits,
     * slower once C2 has compiled the SIMD kernels). For a JVM that runs without C2, such as the launcher's
     * short one-shot commands under {@code -XX:TieredStopAtLevel=1}, where the SIMD kernels never get fast.
     */
    public static final String SIMD_TWINS_PROPERTY = "bertj.simdTwins";
    private static final boolean ALWAYS_TWINS = "always".equals(System.getProperty(SIMD_TWINS_PROPERTY));
    /**
     * Most Linear multiply-adds of a forward that runs on the SIMD twins while the model is new: about 40
     * MiniLM tokens or 5 of bert-base, where the twins beat the SIMD kernels' first calls in a new JVM.
     */
    static final long TWIN_MACS = 400_000_000L;
    /** How many of a model's first small forwards run on the SIMD twins. */
    static final int TWIN_FORWARDS = 4;

    /** For tests: the next {@code forwards} forwards of at most {@link #TWIN_MACS} run on the SIMD twins. */
    void setTwinForwards(int forwards) {
        twinForwardsLeft.set(forwards);
    }

    /** Enters the call guard and takes a workspace for the sequences, refusing one over the working-memory cap. */
    private Workspace acquire(Sequences sequences, long probsFloats, String batchShape) {
        int tokens = sequences.tokens(), batch = sequences.count();
        long bytes = Workspace.bytesFor(tokens, batch, config.hiddenSize(), config.intermediateSize()) + probsFloats * Float.BYTES;
        if (bytes > maxWorkspaceBytes) {
            throw new IllegalArgumentException("batch of " + batchShape + " needs " + (bytes >> 20)
                    + " MiB of working memory, over the cap of " + (maxWorkspaceBytes >> 20) + " MiB; split the batch");
        }
        guard.enter();
        try {
            Workspace ws = idleWorkspaces.pollFirst();
            if (ws == null) ws = new Workspace(config.hiddenSize(), config.intermediateSize());
            ws.prepare(tokens, batch);
            return ws;
        } catch (RuntimeException | Error e) {
            guard.exit();
            throw e;
        }
    }

    private void release(Workspace ws) {
        idleWorkspaces.addFirst(ws);
        guard.exit();
    }

    private void embeddings(Sequences sequences, Workspace ws) {
        long t = Profile.start();
        embeddings.forward(sequences, ws.hiddenState(), pool);
        Profile.record("embeddings", t);
    }

    private void checkInput(Sequences sequences, int longest) {
        if (longest > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + longest + " is longer than max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of " + directory.path() + "; truncate the input (max length "
                    + config.maxPositionEmbeddings() + ")");
        }
        embeddings.checkIds(sequences);
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
        return Profile.snapshot();
    }

    public static void resetProfile() {
        Profile.reset();
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
