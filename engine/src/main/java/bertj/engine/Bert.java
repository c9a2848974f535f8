package bertj.engine;

import bertj.engine.Results.Answer;
import bertj.engine.Results.Classification;
import bertj.engine.Results.Entity;
import bertj.engine.Results.Hit;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;
import bertj.loader.PoolingConfig;
import bertj.loader.hub.Hub;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import bertj.tokenizer.TokenizerException;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;

/**
 * A Hugging Face BERT model directory, ready to use: tokenizer, encoder and whatever task head the
 * checkpoint has. Thread-safe; {@link #close()} waits for calls in progress, then frees everything.
 *
 * <pre>{@code
 * try (Bert bert = Bert.load(Path.of("all-MiniLM-L6-v2"))) {
 *     double s = bert.similarity("A man is playing a guitar.", "Someone is making music.");
 * }
 * }</pre>
 */
public final class Bert implements AutoCloseable {
    /** Longest answer, in tokens, that question answering considers (Hugging Face's pipeline default). */
    public static final int MAX_ANSWER_TOKENS = 15;
    /** Window and overlap, in tokens, for question answering over long contexts (the pipeline's defaults). */
    public static final int QA_WINDOW = 384, QA_STRIDE = 128;
    /**
     * Most tokens per forward of {@link #embed}: enough rows for the Linears to run at full speed, while the
     * working memory stays small (MiniLM 63 MB, bert-base 126 MB).
     */
    static final int EMBED_BATCH_TOKENS = 4096;
    /** Question answering windows run through the encoder together. */
    private static final int QA_BATCH = 32;

    private final BertModel model;
    private final BertTokenizer tokenizer;
    /** Read at the first embedding: encoding and the task heads do not need modules.json's pipeline. */
    private volatile PoolingConfig pooling;
    // The checkpoint's task head, if any: its "classifier" labels sequences or, for BertForTokenClassification,
    // tokens; "qa_outputs" marks answer spans.
    private final SequenceClassificationHead sequenceClassification; // BertForSequenceClassification
    private final TokenClassificationHead tokenClassification;       // BertForTokenClassification
    private final QuestionAnsweringHead questionAnswering;           // BertForQuestionAnswering
    private final int maxLength;
    /** Calls in progress: close() waits for them, since heads read the model's mapped weights after the encoder. */
    private final CallGuard guard = new CallGuard("Bert");

    private Bert(BertModel model, BertTokenizer tokenizer) {
        this.model = model;
        ModelDirectory dir = model.directory();
        BertConfig config = model.config();
        this.tokenizer = tokenizer;
        int hidden = config.hiddenSize();
        Weights weights = model.weights();
        String[] labels = labelNames(config);
        boolean tokenClassifier = config.architectures().stream().anyMatch(a -> a.endsWith("ForTokenClassification"));
        Dense classifier = weights.has("classifier.weight") ? new Dense(weights, "classifier", hidden, labels.length) : null;
        this.sequenceClassification = classifier != null && !tokenClassifier
                ? new SequenceClassificationHead(classifier, labels, config.problemType()) : null;
        this.tokenClassification = classifier != null && tokenClassifier ? new TokenClassificationHead(classifier, labels) : null;
        this.questionAnswering = weights.has("qa_outputs.weight") ? new QuestionAnsweringHead(new Dense(weights, "qa_outputs", hidden, 2)) : null;
        int limit = Math.min(config.maxPositionEmbeddings(), tokenizer.modelMaxLength() > 0 ? tokenizer.modelMaxLength() : Integer.MAX_VALUE);
        this.maxLength = Math.min(limit, dir.maxSeqLength().orElse(limit));
    }

    /**
     * Loads {@code "default"} (all-MiniLM-L6-v2, converted on first use from the Maven Central jar on the class
     * path; see {@link bertj.loader.DefaultModel}), a model directory, or a Hugging Face Hub model by name
     * ({@code org/name[@revision]}), fetched into the shared Hugging Face cache when not there yet (see
     * {@link bertj.loader.hub.Hub#locate}); an existing local path wins over a name. Runs on one thread per core.
     */
    public static Bert load(String model) {
        return load(model, null);
    }

    /**
     * {@link #load(String)}, the Linear weights in {@code precision} (null: as the checkpoint stores them; see
     * {@link BertModel#load(Path, Precision)}).
     */
    public static Bert load(String model, Precision precision) {
        return load(Hub.locate(model), precision);
    }

    /** Loads a model directory, running on one thread per core. */
    public static Bert load(Path directory) {
        return load(directory, (Precision) null);
    }

    /** Loads a model directory, running on one thread per core, its Linear weights in {@code precision} (or null). */
    public static Bert load(Path directory, Precision precision) {
        return load(directory, () -> BertModel.load(directory, precision));
    }

    /** Loads a model directory that runs its kernels on {@code pool} (not closed with the model). */
    public static Bert load(Path directory, ThreadPool pool) {
        return load(directory, () -> BertModel.load(directory, pool));
    }

    /** Loads a model directory that runs the given kernel implementation on {@code pool}. */
    public static Bert load(Path directory, ThreadPool pool, KernelMode mode) {
        return load(directory, () -> BertModel.load(directory, pool, mode));
    }

    /** Loads a model directory that runs the given kernels on {@code pool}, its Linear weights in {@code precision}. */
    public static Bert load(Path directory, ThreadPool pool, KernelMode mode, Precision precision) {
        return load(directory, () -> BertModel.load(directory, pool, mode, precision));
    }

    /**
     * The tokenizer loads on a second thread while the model loads: in a new JVM each takes a few hundred
     * milliseconds, mostly class loading and the interpreter, and a one-shot command waits for both.
     */
    private static Bert load(Path directory, Supplier<BertModel> loadModel) {
        FutureTask<BertTokenizer> tokenizer = new FutureTask<>(() -> BertTokenizer.fromDirectory(directory));
        Thread.ofPlatform().daemon().name("bertj-tokenizer-load").start(tokenizer);
        BertModel model = loadModel.get(); // a model that cannot load is the first error to report
        try {
            return of(model, tokenizer.get());
        } catch (ExecutionException e) {
            model.close();
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            model.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading the tokenizer of " + directory, e);
        }
    }

    /** The model with its tokenizer and heads; the model is closed if they cannot be read. */
    static Bert of(BertModel model) {
        BertTokenizer tokenizer;
        try {
            tokenizer = BertTokenizer.fromDirectory(model.directory().path());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return of(model, tokenizer);
    }

    private static Bert of(BertModel model, BertTokenizer tokenizer) {
        try {
            return new Bert(model, tokenizer);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Runs one public call inside the guard; public methods call each other only through their unguarded bodies. */
    private <T> T call(Supplier<T> body) {
        guard.enter();
        try {
            return body.get();
        } finally {
            guard.exit();
        }
    }

    public BertModel model() {
        return model;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The pooling that {@link #embed(List)} uses by default: the sentence-transformers config, else CLS.
     *
     * @throws bertj.loader.ModelFormatException if modules.json or the pooling config is malformed, or the
     *         pipeline has a module bertj does not run (a Dense layer, say): its embeddings would be wrong
     */
    public PoolingConfig defaultPooling() {
        PoolingConfig p = pooling;
        if (p == null) {
            pooling = p = model.directory().pooling().orElse(new PoolingConfig(PoolingConfig.Mode.CLS, false));
        }
        return p;
    }

    /**
     * Longest input in tokens: min(max_position_embeddings, the tokenizer's model_max_length, and
     * sentence-transformers' max_seq_length when given).
     */
    public int maxLength() {
        return maxLength;
    }

    // ---- encoder outputs ----

    /** Tokenizes texts (and optional pairs, null for none) without truncation and runs the encoder. */
    public Encoded encode(List<String> texts, List<String> pairs, boolean allHiddenStates) {
        return call(() -> {
            List<Encoding> encodings = tokenizer.encodeBatch(texts, pairs, EncodeOptions.DEFAULT);
            return new Encoded(encodings, model.forward(toInput(encodings), allHiddenStates, false));
        });
    }

    /** Encodings and the encoder's output for them, in the same order. */
    public record Encoded(List<Encoding> encodings, BaseModelOutputWithPooling output) {
    }

    // ---- sentence embeddings ----

    /** Sentence embeddings with the model's own pooling and normalisation (see {@link #defaultPooling()}). */
    public float[][] embed(List<String> texts) {
        PoolingConfig p = defaultPooling();
        return embed(texts, Pooling.valueOf(p.mode().name()), p.normalize());
    }

    public float[] embed(String text) {
        return embed(List.of(text))[0];
    }

    /** Sentence embeddings, truncated to {@link #maxLength()} tokens as sentence-transformers does. */
    public float[][] embed(List<String> texts, Pooling mode, boolean normalize) {
        return call(() -> embedBatches(texts, mode, normalize));
    }

    private float[][] embedBatches(List<String> texts, Pooling mode, boolean normalize) {
        defaultPooling(); // whatever the pooling asked for, modules.json's pipeline must be one bertj runs in full
        List<Encoding> encodings = tokenizer.encodeBatch(texts, null, truncated(maxLength));
        float[][] out = new float[texts.size()][];
        int hidden = model.config().hiddenSize();
        forwardPacked(encodings, (s, rows, pooled) -> {
            float[] vector = mode.pool(rows, encodings.get(s).length(), hidden);
            out[s] = normalize ? Pooling.normalize(vector) : vector;
        });
        return out;
    }

    /**
     * Runs the encoder on {@code encodings} as {@link #embed} does, packed without padding, and hands each one's
     * last hidden state and pooler output to {@code output} with its index: for heads computed outside this class,
     * such as the ones bertj's train module fits.
     */
    public void forward(List<Encoding> encodings, BertModel.SequenceOutput output) {
        call(() -> {
            forwardPacked(encodings, output);
            return null;
        });
    }

    /**
     * Runs the encoder on the encodings packed without padding, up to {@link #EMBED_BATCH_TOKENS} tokens per forward,
     * handing each one's outputs to {@code output} with its index in {@code encodings}.
     */
    private void forwardPacked(List<Encoding> encodings, BertModel.SequenceOutput output) {
        for (int from = 0, to; from < encodings.size(); from = to) {
            List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
            int tokens = 0;
            for (to = from; to < encodings.size() && (to == from || tokens + encodings.get(to).length() <= EMBED_BATCH_TOKENS); to++) {
                ids.add(encodings.get(to).ids());
                types.add(encodings.get(to).typeIds());
                tokens += encodings.get(to).length();
            }
            int first = from;
            model.forward(PackedInput.of(ids, types), (s, rows, pooled) -> output.accept(first + s, rows, pooled));
        }
    }

    /** Cosine similarity of two texts' embeddings. */
    public double similarity(String a, String b) {
        float[][] e = embed(List.of(a, b));
        return Pooling.cosine(e[0], e[1]);
    }

    /** The k texts most similar to the query, best first. */
    public List<Hit> search(String query, List<String> texts, int k) {
        if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
        List<String> all = new ArrayList<>(texts.size() + 1);
        all.add(query);
        all.addAll(texts);
        float[][] e = embed(all);
        List<Hit> hits = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) hits.add(new Hit(i, texts.get(i), Pooling.cosine(e[0], e[i + 1])));
        hits.sort(Comparator.comparingDouble(Hit::score).reversed());
        return List.copyOf(hits.subList(0, Math.min(k, hits.size())));
    }

    // ---- sequence classification ----

    public Classification classify(String text) {
        return classify(text, null, false);
    }

    public Classification classify(String text, String pair) {
        return classify(text, pair, false);
    }

    /**
     * BertForSequenceClassification: classifier(pooler_output) for a text or a text pair, turned into scores as
     * Hugging Face's text-classification pipeline does ({@link SequenceClassificationHead}): the raw logits for
     * {@code problem_type} "regression", a sigmoid per label for "multi_label_classification" or a single label,
     * else the softmax.
     * Input longer than {@link #maxLength()} tokens is an IllegalArgumentException unless {@code truncate}.
     */
    public Classification classify(String text, String pair, boolean truncate) {
        return call(() -> classifyOne(text, pair, truncate));
    }

    /**
     * {@link #classify(String, String, boolean)} of many texts ({@code pairs} null, or one entry per text, null for
     * none), packed into forwards as {@link #embed} does: the same results as one at a time, faster.
     *
     * @throws InputTooLongException for the first text too long for the model when not {@code truncate}
     */
    public List<Classification> classify(List<String> texts, List<String> pairs, boolean truncate) {
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException("pairs has " + pairs.size() + " entries for " + texts.size() + " texts");
        }
        return call(() -> {
            requireSequenceClassification();
            List<Encoding> encodings = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) encodings.add(encodeWithin(texts.get(i), pairs == null ? null : pairs.get(i), truncate));
            float[][] pooled = new float[texts.size()][];
            forwardPacked(encodings, (s, rows, pooler) -> pooled[s] = pooler.toArray(ValueLayout.JAVA_FLOAT));
            float[][] logits = sequenceClassification.logits(pooled);
            List<Classification> out = new ArrayList<>();
            for (float[] l : logits) out.add(sequenceClassification.classify(l));
            return out;
        });
    }

    private Classification classifyOne(String text, String pair, boolean truncate) {
        Encoding encoding = encodeWithin(text, pair, truncate);
        float[] logits = sequenceLogitsOf(toInput(List.of(encoding)))[0];
        return sequenceClassification.classify(logits);
    }

    /** Sequence classification logits [batch][labels] of a padded batch. */
    public float[][] sequenceLogits(BertInput input) {
        return call(() -> sequenceLogitsOf(input));
    }

    /**
     * Sequence classification logits [sequence][labels] of sequences packed without padding: the same bits as
     * {@link #sequenceLogits(BertInput)} gives each of them, for no padding's work.
     */
    public float[][] sequenceLogits(PackedInput input) {
        return call(() -> {
            requireSequenceClassification();
            float[][] pooled = new float[input.sequences()][];
            model.forward(input, (s, rows, pooler) -> pooled[s] = pooler.toArray(ValueLayout.JAVA_FLOAT));
            return sequenceClassification.logits(pooled);
        });
    }

    /**
     * One sequence's classification from its logits (a row of {@link #sequenceLogits}), as {@link #classify} gives
     * it: for callers that batch the forwards themselves.
     */
    public Classification classification(float[] logits) {
        return call(() -> {
            requireSequenceClassification();
            int labels = model.config().numLabels();
            if (logits.length != labels) throw new IllegalArgumentException(logits.length + " logits for a head of " + labels + " labels");
            return sequenceClassification.classify(logits);
        });
    }

    private float[][] sequenceLogitsOf(BertInput input) {
        requireSequenceClassification();
        return sequenceClassification.logits(model.forward(input));
    }

    // ---- token classification ----

    /**
     * BertForTokenClassification: entities grouped from B-/I- tags, each word labelled by its first
     * sub-word (Hugging Face's {@code aggregation_strategy="first"}), with the word scores averaged.
     */
    public List<Entity> entities(String text) {
        return entities(text, false);
    }

    /** As {@link #entities(String)}; input longer than {@link #maxLength()} tokens is cut when {@code truncate}, else refused. */
    public List<Entity> entities(String text, boolean truncate) {
        return call(() -> {
            Encoding encoding = encodeWithin(text, null, truncate);
            float[][] logits = tokenLogitsOf(toInput(List.of(encoding)))[0];
            return tokenClassification.entities(text, encoding, logits);
        });
    }

    /**
     * {@link #entities(String, boolean)} of many texts, packed into forwards as {@link #embed} does: the same
     * results as one at a time, faster.
     *
     * @throws InputTooLongException for the first text too long for the model when not {@code truncate}
     */
    public List<List<Entity>> entities(List<String> texts, boolean truncate) {
        return call(() -> {
            requireTokenClassification();
            List<Encoding> encodings = new ArrayList<>();
            for (String text : texts) encodings.add(encodeWithin(text, null, truncate));
            int hidden = model.config().hiddenSize();
            List<List<Entity>> out = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) out.add(null);
            forwardPacked(encodings, (s, rows, pooled) -> {
                float[][] states = new float[encodings.get(s).length()][];
                for (int t = 0; t < states.length; t++) {
                    states[t] = rows.asSlice(4L * t * hidden, 4L * hidden).toArray(ValueLayout.JAVA_FLOAT);
                }
                out.set(s, tokenClassification.entities(texts.get(s), encodings.get(s), tokenClassification.logits(states)));
            });
            return out;
        });
    }

    /** Token classification logits [batch][seq][labels] of a padded batch. */
    public float[][][] tokenLogits(BertInput input) {
        return call(() -> tokenLogitsOf(input));
    }

    private float[][][] tokenLogitsOf(BertInput input) {
        requireTokenClassification();
        return tokenClassification.logits(model.forward(input));
    }

    // ---- question answering ----

    /**
     * BertForQuestionAnswering: the span of the context with the best start x end probability, over
     * overlapping windows when the context is long. A question that leaves no room for the context in
     * the model's window is refused with a {@link TokenizerException} that gives its length and the limit.
     */
    public Answer answer(String question, String context) {
        return call(() -> answerOne(question, context));
    }

    private Answer answerOne(String question, String context) {
        int window = Math.min(QA_WINDOW, maxLength);
        int pairSpecials = tokenizer.encode("", "", EncodeOptions.DEFAULT).length();
        int questionTokens = tokenizer.encode(question, null, EncodeOptions.DEFAULT).length()
                - tokenizer.encode("", null, EncodeOptions.DEFAULT).length();
        int room = window - pairSpecials - questionTokens; // context tokens per window
        if (room < 1) {
            throw new TokenizerException("the question is " + questionTokens + " tokens, too long for the model's "
                    + window + "-token window with the context: shorten it to at most " + (window - pairSpecials - 1) + " tokens");
        }
        // Windows overlap by the stride, which must leave each window at least one new context token: a long
        // question gets a shorter overlap (Hugging Face's pipeline fails there instead).
        int stride = Math.min(Math.min(QA_STRIDE, window / 2), room - 1);
        Encoding first = tokenizer.encode(question, context, EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.ONLY_SECOND, window)
                .withStride(stride).withReturnOverflowing(true));
        List<Encoding> windows = new ArrayList<>();
        windows.add(first);
        windows.addAll(first.overflowing());
        Answer best = null;
        // A batch of windows at a time: a long context needs no more working memory than a short one.
        for (int from = 0; from < windows.size(); from += QA_BATCH) {
            List<Encoding> batch = windows.subList(from, Math.min(windows.size(), from + QA_BATCH));
            float[][][] logits = spanLogitsOf(toInput(batch));
            for (int w = 0; w < batch.size(); w++) {
                Answer candidate = questionAnswering.best(context, batch.get(w), logits[w], MAX_ANSWER_TOKENS);
                if (candidate != null && (best == null || candidate.score() > best.score())) best = candidate;
            }
        }
        return best != null ? best : new Answer("", 0, 0, 0);
    }

    /** Question answering logits [batch][seq][2] of a padded batch: start logit, then end logit. */
    public float[][][] spanLogits(BertInput input) {
        return call(() -> spanLogitsOf(input));
    }

    private float[][][] spanLogitsOf(BertInput input) {
        requireHead(questionAnswering != null, "question answering", "qa_outputs.weight");
        return questionAnswering.logits(model.forward(input));
    }

    // ---- helpers ----

    private Encoding encodeWithin(String text, String pair, boolean truncate) {
        if (truncate) return tokenizer.encode(text, pair, truncated(maxLength));
        Encoding encoding = tokenizer.encode(text, pair, EncodeOptions.DEFAULT);
        if (encoding.length() > maxLength) {
            throw new InputTooLongException(encoding.length(), maxLength);
        }
        return encoding;
    }

    private static EncodeOptions truncated(int maxLength) {
        return EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, maxLength);
    }

    private BertInput toInput(List<Encoding> encodings) {
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (Encoding e : encodings) {
            ids.add(e.ids());
            types.add(e.typeIds());
        }
        return BertInput.padded(ids, types, tokenizer.padTokenId());
    }

    private static String[] labelNames(BertConfig config) {
        int n = config.numLabels();
        String[] names = new String[n];
        for (int i = 0; i < n; i++) names[i] = config.id2label().getOrDefault(i, "LABEL_" + i);
        return names;
    }

    private void requireSequenceClassification() {
        requireHead(sequenceClassification != null && model.hasPooler(), "sequence classification", "classifier.weight and pooler.dense.weight");
    }

    private void requireTokenClassification() {
        requireHead(tokenClassification != null, "token classification", "classifier.weight and architectures BertForTokenClassification");
    }

    private void requireHead(boolean present, String task, String tensors) {
        if (!present) {
            throw new UnsupportedOperationException(model.directory().path() + " has no " + task + " head (needs " + tensors
                    + "; architectures: " + model.config().architectures() + ")");
        }
    }

    /** Waits for calls in progress (they finish normally), then frees the model; later calls get IllegalStateException. */
    @Override
    public void close() {
        if (guard.closeAndAwait()) model.close();
    }
}
