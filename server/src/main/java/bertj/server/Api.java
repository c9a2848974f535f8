package bertj.server;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.server.ApiException.Type;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import bertj.tokenizer.TokenizerException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;

/**
 * The routes' work: text-embeddings-inference's request and response JSON (its {@code router/src/http/types.rs}),
 * its validation and its messages, over the {@link Batcher}.
 */
final class Api {
    /** What TEI's {@code /info} calls the model: it decides which routes it serves. */
    enum ModelType { EMBEDDING, CLASSIFIER, RERANKER }

    /** A route's answer: the JSON body and, for the inference routes, what TEI's timing headers report. */
    record Reply(byte[] body, Timing timing) {
    }

    /** TEI's ResponseMetadata: characters and tokens in all, times averaged over the request's inputs. */
    record Timing(long chars, long tokens, long tokenizationNanos, long queueNanos, long inferenceNanos) {
    }

    /** Takes the concurrency permits for a request's inputs (one each, as TEI), or refuses it with 429. */
    interface Admission {
        void admit(int inputs);
    }

    /** One input: a text, a text pair, or token ids as given. */
    record Input(String text, String pair, int[] ids) {
        long chars() {
            if (ids != null) return ids.length;
            return text.codePointCount(0, text.length()) + (pair == null ? 0 : pair.codePointCount(0, pair.length()));
        }
    }

    private record Sequence(int[] ids, int[] typeIds) {
    }

    private record Ran(List<Batcher.Result> results, Timing timing) {
    }

    private static final JsonFactory JSON = new JsonFactory();
    private static final String PREDICT_EXPECTING =
            "a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]";

    private final Bert bert;
    private final BertTokenizer tokenizer;
    private final Server.Options options;
    private final Batcher batcher;
    private final Metrics metrics;
    private final ModelType modelType;
    private final Pooling pooling;
    private final String[] labels;
    private final int maxLength, hidden;
    private final String modelId;

    Api(Bert bert, Server.Options options, Batcher batcher, Metrics metrics, ModelType modelType, Pooling pooling, String modelId) {
        this.bert = bert;
        this.tokenizer = bert.tokenizer();
        this.options = options;
        this.batcher = batcher;
        this.metrics = metrics;
        this.modelType = modelType;
        this.pooling = pooling;
        Map<Integer, String> id2label = bert.model().config().id2label();
        this.labels = new String[id2label.size()];
        id2label.forEach((id, label) -> labels[id] = label);
        this.maxLength = bert.maxLength();
        this.hidden = bert.model().config().hiddenSize();
        this.modelId = modelId;
    }

    ModelType modelType() {
        return modelType;
    }

    // ---------------------------------------------------------------- embeddings

    /** POST /embed: {@code inputs}, {@code normalize}, {@code truncate}, {@code truncation_direction}, {@code dimensions}. */
    Reply embed(JsonNode body, Admission admission) {
        List<Input> inputs = embedInputs(body, "inputs");
        boolean normalize = bool(body, "normalize", true);
        Integer dimensions = dimensions(body);
        boolean truncate = truncate(body), left = leftTruncation(body);
        noPromptName(body);
        requireEmbedding();
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.EMBED, false, truncate, left);
        float[][] vectors = vectors(ran, normalize, dimensions);
        return new Reply(write(g -> {
            g.writeStartArray();
            for (float[] v : vectors) writeFloats(g, v);
            g.writeEndArray();
        }), ran.timing());
    }

    /** POST /embed_all: every token's last hidden state, special tokens included. */
    Reply embedAll(JsonNode body, Admission admission) {
        List<Input> inputs = embedInputs(body, "inputs");
        boolean truncate = truncate(body), left = leftTruncation(body);
        noPromptName(body);
        requireEmbedding();
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.EMBED, true, truncate, left);
        return new Reply(write(g -> {
            g.writeStartArray();
            for (Batcher.Result r : ran.results()) {
                g.writeStartArray();
                for (float[] token : r.tokens()) writeFloats(g, token);
                g.writeEndArray();
            }
            g.writeEndArray();
        }), ran.timing());
    }

    /** POST /v1/embeddings: OpenAI's request and response; always normalised, truncated only with auto-truncate. */
    Reply openAiEmbeddings(JsonNode body, Admission admission) {
        List<Input> inputs = embedInputs(body, "input");
        boolean base64 = switch (text(body, "encoding_format", "float")) {
            case "float" -> false;
            case "base64" -> true;
            default -> throw ApiException.badRequest("`encoding_format`: unknown variant `" + body.get("encoding_format").asText()
                    + "`, expected `float` or `base64`");
        };
        Integer dimensions = dimensions(body);
        requireEmbedding();
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.EMBED, false, options.autoTruncate(), false);
        float[][] vectors = vectors(ran, true, dimensions);
        return new Reply(write(g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < vectors.length; i++) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeFieldName("embedding");
                if (base64) g.writeString(littleEndianBase64(vectors[i]));
                else writeFloats(g, vectors[i]);
                g.writeNumberField("index", i);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", modelId);
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", ran.timing().tokens());
            g.writeNumberField("total_tokens", ran.timing().tokens());
            g.writeEndObject();
            g.writeEndObject();
        }), ran.timing());
    }

    /** POST /similarity: {@code inputs: {source_sentence, sentences}}; the cosine of each sentence with the source. */
    Reply similarity(JsonNode body, Admission admission) {
        JsonNode in = required(body, "inputs");
        if (!in.isObject()) throw ApiException.badRequest("`inputs` must be an object {\"source_sentence\": ..., \"sentences\": [...]}");
        String source = requiredText(in, "source_sentence", "inputs.source_sentence");
        List<String> sentences = stringArray(required(in, "sentences"), "inputs.sentences");
        JsonNode parameters = present(body, "parameters") ? body.get("parameters") : null;
        if (parameters != null && !parameters.isObject()) throw ApiException.badRequest("`parameters` must be an object");
        if (sentences.isEmpty()) throw new ApiException(Type.Empty, "`inputs.sentences` cannot be empty");
        checkBatchSize(sentences.size() + 1);
        boolean truncate = parameters == null ? options.autoTruncate() : truncate(parameters);
        boolean left = parameters != null && leftTruncation(parameters);
        if (parameters != null) noPromptName(parameters);
        requireEmbedding();
        List<Input> inputs = new ArrayList<>();
        inputs.add(new Input(source, null, null));
        for (String s : sentences) inputs.add(new Input(s, null, null));
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.EMBED, false, truncate, left);
        float[][] vectors = vectors(ran, false, null);
        return new Reply(write(g -> {
            g.writeStartArray();
            for (int i = 1; i < vectors.length; i++) g.writeNumber((float) Pooling.cosine(vectors[0], vectors[i]));
            g.writeEndArray();
        }), ran.timing());
    }

    /** Pooled vectors cut to {@code dimensions} (Matryoshka), then normalised when asked, as TEI does. */
    private float[][] vectors(Ran ran, boolean normalize, Integer dimensions) {
        float[][] out = new float[ran.results().size()][];
        for (int i = 0; i < out.length; i++) {
            float[] v = ran.results().get(i).pooled();
            if (dimensions != null) v = Arrays.copyOf(v, dimensions);
            out[i] = normalize ? Pooling.normalize(v) : v;
            for (float x : out[i]) if (!Float.isFinite(x)) throw ApiException.backend("the embedding has a value that is not finite");
        }
        return out;
    }

    // ---------------------------------------------------------------- classification

    /** POST /predict: a text, a pair, or a batch of both; labels with scores, best first. */
    Reply predict(JsonNode body, Admission admission) {
        JsonNode node = required(body, "inputs");
        boolean batch = node.isArray() && !node.isEmpty() && node.get(0).isArray();
        List<Input> inputs = predictInputs(node);
        if (batch) checkBatchSize(inputs.size());
        boolean truncate = truncate(body), left = leftTruncation(body), raw = bool(body, "raw_scores", false);
        if (modelType == ModelType.EMBEDDING) throw ApiException.backend("Model is not a classifier model");
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.CLASSIFY, false, truncate, left);
        List<List<Prediction>> all = new ArrayList<>();
        for (Batcher.Result r : ran.results()) all.add(predictions(r.logits(), raw));
        return new Reply(write(g -> {
            if (batch) g.writeStartArray();
            for (List<Prediction> predictions : all) {
                g.writeStartArray();
                for (Prediction p : predictions) {
                    g.writeStartObject();
                    g.writeNumberField("score", p.score());
                    g.writeStringField("label", p.label());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            if (batch) g.writeEndArray();
        }), ran.timing());
    }

    private record Prediction(float score, String label) {
    }

    private List<Prediction> predictions(float[] logits, boolean raw) {
        float[] scores = scores(logits, raw);
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            if (Float.isNaN(scores[i])) throw new ApiException(Type.Backend, "score is NaN");
            out.add(new Prediction(scores[i], labels[i]));
        }
        out.sort(Comparator.comparingDouble(Prediction::score).reversed());
        return out;
    }

    /** POST /rerank: {@code query} against each of {@code texts} by a one-label cross-encoder, best first. */
    Reply rerank(JsonNode body, Admission admission) {
        String query = requiredText(body, "query", "query");
        List<String> texts = stringArray(required(body, "texts"), "texts");
        boolean truncate = truncate(body), left = leftTruncation(body);
        boolean raw = bool(body, "raw_scores", false), returnText = bool(body, "return_text", false);
        if (texts.isEmpty()) throw new ApiException(Type.Empty, "`texts` cannot be empty");
        if (modelType != ModelType.RERANKER) throw ApiException.backend("model is not a re-ranker model");
        checkBatchSize(texts.size());
        List<Input> inputs = new ArrayList<>();
        for (String t : texts) inputs.add(new Input(query, t, null));
        admission.admit(inputs.size());
        Ran ran = infer(inputs, Batcher.Kind.CLASSIFY, false, truncate, left);
        record Rank(int index, float score) {
        }
        List<Rank> ranks = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            float score = scores(ran.results().get(i).logits(), raw)[0];
            if (Float.isNaN(score)) throw new ApiException(Type.Backend, "score is NaN");
            ranks.add(new Rank(i, score));
        }
        ranks.sort(Comparator.comparingDouble(Rank::score).reversed());
        return new Reply(write(g -> {
            g.writeStartArray();
            for (Rank r : ranks) {
                g.writeStartObject();
                g.writeNumberField("index", r.index());
                if (returnText) g.writeStringField("text", texts.get(r.index()));
                g.writeNumberField("score", r.score());
                g.writeEndObject();
            }
            g.writeEndArray();
        }), ran.timing());
    }

    /** TEI's scores: the logits when raw, else the softmax over labels, or the sigmoid of a single label. */
    static float[] scores(float[] logits, boolean raw) {
        float[] out = new float[logits.length];
        if (raw) return logits.clone();
        if (logits.length == 1) {
            out[0] = (float) (1 / (1 + Math.exp(-logits[0])));
            return out;
        }
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) sum += e[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < logits.length; i++) out[i] = (float) (e[i] / sum);
        return out;
    }

    // ---------------------------------------------------------------- tokenizer

    /** POST /tokenize: each token's id, text, whether special, and its UTF-8 byte offsets (null for special tokens). */
    Reply tokenize(JsonNode body, Admission admission) {
        JsonNode node = required(body, "inputs");
        List<String> texts;
        if (node.isTextual()) {
            texts = List.of(node.textValue());
        } else if (node.isArray()) {
            texts = stringArray(node, "inputs");
            if (texts.isEmpty()) throw new ApiException(Type.Empty, "`inputs` cannot be empty");
            checkBatchSize(texts.size());
        } else {
            throw ApiException.badRequest("`inputs` must be a string or an array of strings");
        }
        boolean special = bool(body, "add_special_tokens", true);
        noPromptName(body);
        admission.admit(texts.size());
        List<Encoding> encodings = new ArrayList<>();
        try {
            for (String t : texts) encodings.add(tokenizer.encode(t, null, EncodeOptions.DEFAULT.withAddSpecialTokens(special)));
        } catch (TokenizerException e) {
            throw new ApiException(Type.Tokenizer, "tokenizer error " + e.getMessage());
        }
        return new Reply(write(g -> {
            g.writeStartArray();
            for (int i = 0; i < texts.size(); i++) {
                String text = texts.get(i);
                Encoding e = encodings.get(i);
                int[] ids = e.ids(), specials = e.specialTokensMask(), starts = e.starts(), ends = e.ends();
                List<String> tokens = e.tokens();
                int[] bytes = utf8Offsets(text);
                g.writeStartArray();
                for (int t = 0; t < ids.length; t++) {
                    g.writeStartObject();
                    g.writeNumberField("id", ids[t]);
                    boolean isSpecial = specials[t] == 1;
                    g.writeStringField("text", isSpecial ? tokens.get(t) : text.substring(starts[t], ends[t]));
                    g.writeBooleanField("special", isSpecial);
                    if (isSpecial) {
                        g.writeNullField("start");
                        g.writeNullField("stop");
                    } else {
                        g.writeNumberField("start", bytes[starts[t]]);
                        g.writeNumberField("stop", bytes[ends[t]]);
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        }), null);
    }

    /** UTF-8 byte offset of each UTF-16 index of {@code s} (and of its end). */
    private static int[] utf8Offsets(String s) {
        int[] out = new int[s.length() + 1];
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            out[i] = bytes;
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out[++i] = bytes; // the pair's second half: inside one 4-byte character
                bytes += 4;
            } else {
                bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a lone surrogate becomes U+FFFD, 3 bytes
            }
        }
        out[s.length()] = bytes;
        return out;
    }

    /** POST /decode: {@code ids} (one list or a batch of lists), {@code skip_special_tokens}. */
    Reply decode(JsonNode body, Admission admission) {
        JsonNode node = required(body, "ids");
        if (!node.isArray()) throw ApiException.badRequest("`ids` must be an array of token ids or an array of such arrays");
        List<int[]> batch = new ArrayList<>();
        if (node.isEmpty() || !node.get(0).isArray()) {
            batch.add(ids(node, "ids"));
        } else {
            for (int i = 0; i < node.size(); i++) batch.add(ids(node.get(i), "ids[" + i + "]"));
            checkBatchSize(batch.size());
        }
        boolean skip = bool(body, "skip_special_tokens", true);
        admission.admit(batch.size());
        return new Reply(write(g -> {
            g.writeStartArray();
            for (int[] ids : batch) g.writeString(tokenizer.decode(ids, skip));
            g.writeEndArray();
        }), null);
    }

    // ---------------------------------------------------------------- info

    /** GET /info, TEI's Info. */
    byte[] info(String version) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("model_id", modelId);
            g.writeNullField("model_sha");
            g.writeStringField("model_dtype", switch (bert.model().precision()) {
                case FP32 -> "float32";
                case BF16 -> "bfloat16";
                case INT8 -> "int8";
                case F16 -> "float16";
            });
            g.writeStringField("served_model_name", modelId);
            g.writeObjectFieldStart("model_type");
            if (modelType == ModelType.EMBEDDING) {
                g.writeObjectFieldStart("embedding");
                g.writeStringField("pooling", pooling.name().toLowerCase(java.util.Locale.ROOT));
            } else {
                g.writeObjectFieldStart(modelType == ModelType.RERANKER ? "reranker" : "classifier");
                g.writeObjectFieldStart("id2label");
                for (int i = 0; i < labels.length; i++) g.writeStringField(Integer.toString(i), labels[i]);
                g.writeEndObject();
                g.writeObjectFieldStart("label2id");
                for (int i = 0; i < labels.length; i++) g.writeNumberField(labels[i], i);
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
            g.writeNumberField("max_concurrent_requests", options.maxConcurrentRequests());
            g.writeNumberField("max_input_length", maxLength);
            g.writeNumberField("max_batch_tokens", options.maxBatchTokens());
            g.writeNullField("max_batch_requests");
            g.writeNumberField("max_client_batch_size", options.maxClientBatchSize());
            g.writeBooleanField("auto_truncate", options.autoTruncate());
            // requests are tokenized on the virtual threads that serve them, carried by one thread per core
            g.writeNumberField("tokenization_workers", Runtime.getRuntime().availableProcessors());
            g.writeStringField("version", version);
            g.writeNullField("sha");
            g.writeNullField("docker_label");
            g.writeEndObject();
        });
    }

    // ---------------------------------------------------------------- inference

    /**
     * Tokenizes every input (any bad one refuses the request before work is queued), queues them, and waits for all.
     * If the wait ends early, the inputs not yet started are dropped.
     */
    private Ran infer(List<Input> inputs, Batcher.Kind kind, boolean allTokens, boolean truncate, boolean left) {
        long chars = 0, tokens = 0, tokenization = 0, queue = 0, inference = 0;
        List<Batcher.Job> jobs = new ArrayList<>(inputs.size());
        for (Input in : inputs) {
            long start = System.nanoTime();
            Sequence s = sequence(in, truncate, left);
            tokenization += System.nanoTime() - start;
            chars += in.chars();
            tokens += s.ids().length;
            metrics.observe("te_request_input_length", "Tokens per input", Metrics.TOKEN_BUCKETS, s.ids().length);
            jobs.add(new Batcher.Job(kind, allTokens, s.ids(), s.typeIds()));
        }
        List<Batcher.Result> results = new ArrayList<>(jobs.size());
        try {
            for (Batcher.Job job : jobs) batcher.submit(job);
            for (Batcher.Job job : jobs) {
                Batcher.Result r = await(job);
                results.add(r);
                queue += r.queueNanos();
                inference += r.inferenceNanos();
            }
        } finally {
            for (Batcher.Job job : jobs) if (!job.result.isDone()) job.abandon();
        }
        int n = jobs.size();
        return new Ran(results, new Timing(chars, tokens, tokenization / n, queue / n, inference / n));
    }

    private static Batcher.Result await(Batcher.Job job) {
        try {
            return job.result.get();
        } catch (InterruptedException e) { // the client hung up (Server.handle)
            Thread.currentThread().interrupt();
            throw new ApiException(Type.Unhealthy, "the request was cancelled");
        } catch (CancellationException e) {
            throw new ApiException(Type.Unhealthy, "the request was dropped");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) throw a;
            throw ApiException.backend(e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage());
        }
    }

    /** An input's token ids, within the model's length: truncated when asked, else refused as TEI refuses it. */
    private Sequence sequence(Input in, boolean truncate, boolean left) {
        if (in.ids() != null) {
            int[] ids = in.ids();
            for (int id : ids) {
                if (id >= tokenizer.vocabSize()) {
                    throw ApiException.validation("token id " + id + " is not in the vocabulary (" + tokenizer.vocabSize() + " tokens)");
                }
            }
            if (ids.length == 0) throw ApiException.validation("`inputs` must not hold an empty list of token ids");
            if (ids.length > maxLength) {
                if (!truncate) throw tooLong(ids.length);
                ids = left ? Arrays.copyOfRange(ids, ids.length - maxLength, ids.length) : Arrays.copyOf(ids, maxLength);
            }
            return new Sequence(ids, new int[ids.length]);
        }
        try {
            Encoding e = tokenizer.encode(in.text(), in.pair(), EncodeOptions.DEFAULT);
            if (e.length() > maxLength) {
                if (!truncate) throw tooLong(e.length());
                // as Bert.embed and Bert.classify truncate, so that the ids (and the vectors) are theirs
                if (!left) e = tokenizer.encode(in.text(), in.pair(), EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, maxLength));
                else return truncateLeft(e);
            }
            return new Sequence(e.ids(), e.typeIds());
        } catch (TokenizerException e) {
            throw new ApiException(Type.Tokenizer, "tokenizer error " + e.getMessage());
        }
    }

    private ApiException tooLong(int length) {
        return ApiException.validation("`inputs` must have less than " + maxLength + " tokens. Given: " + length);
    }

    /**
     * Cuts tokens from the start of the text (and of the pair), longest first, keeping the special tokens: the tokenizer
     * truncates on the right only.
     */
    private Sequence truncateLeft(Encoding e) {
        int[] ids = e.ids(), types = e.typeIds(), sequence = e.sequenceIds();
        int[] count = new int[2];
        for (int s : sequence) if (s >= 0) count[s]++;
        int room = maxLength - (ids.length - count[0] - count[1]);
        int[] keep = count.clone();
        while (keep[0] + keep[1] > room && keep[0] + keep[1] > 0) {
            if (keep[0] > keep[1]) keep[0]--;
            else keep[1]--;
        }
        if (keep[0] + keep[1] > room) throw new ApiException(Type.Tokenizer, "tokenizer error the special tokens alone exceed " + maxLength + " tokens");
        int[] skip = {count[0] - keep[0], count[1] - keep[1]};
        int n = ids.length - skip[0] - skip[1];
        int[] outIds = new int[n], outTypes = new int[n];
        int at = 0;
        for (int t = 0; t < ids.length; t++) {
            int s = sequence[t];
            if (s >= 0 && skip[s] > 0) {
                skip[s]--;
                continue;
            }
            outIds[at] = ids[t];
            outTypes[at++] = types[t];
        }
        return new Sequence(outIds, outTypes);
    }

    // ---------------------------------------------------------------- request fields

    private void requireEmbedding() {
        if (modelType != ModelType.EMBEDDING) throw ApiException.backend("Model is not an embedding model");
    }

    private void checkBatchSize(int size) {
        if (size > options.maxClientBatchSize()) {
            throw new ApiException(Type.Validation, "batch size " + size + " > maximum allowed batch size " + options.maxClientBatchSize());
        }
    }

    /** TEI's Input: a string, a list of token ids, or a list of those. */
    private List<Input> embedInputs(JsonNode body, String field) {
        JsonNode node = required(body, field);
        List<Input> inputs = new ArrayList<>();
        boolean single = node.isTextual() || isIdList(node);
        if (node.isTextual()) {
            inputs.add(new Input(node.textValue(), null, null));
        } else if (single) {
            inputs.add(new Input(null, null, ids(node, field)));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                JsonNode item = node.get(i);
                if (item.isTextual()) inputs.add(new Input(item.textValue(), null, null));
                else if (isIdList(item)) inputs.add(new Input(null, null, ids(item, field + "[" + i + "]")));
                else throw ApiException.badRequest("`" + field + "[" + i + "]` must be a string or a non-empty array of token ids");
            }
        } else {
            throw ApiException.badRequest("`" + field + "` must be a string, an array of token ids, or an array of those");
        }
        if (inputs.isEmpty()) throw new ApiException(Type.Empty, "`inputs` cannot be empty");
        if (!single) checkBatchSize(inputs.size());
        return inputs;
    }

    private static boolean isIdList(JsonNode node) {
        if (!node.isArray() || node.isEmpty()) return false;
        for (JsonNode n : node) if (!n.isIntegralNumber()) return false;
        return true;
    }

    private static int[] ids(JsonNode node, String field) {
        if (!node.isArray()) throw ApiException.badRequest("`" + field + "` must be an array of token ids");
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode n = node.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                throw ApiException.badRequest("`" + field + "[" + i + "]` must be a token id (an integer >= 0), got " + n);
            }
            ids[i] = n.intValue();
        }
        return ids;
    }

    /** TEI's PredictInput: a string, [text, pair], or a batch [[text], [text, pair], ...]. */
    private static List<Input> predictInputs(JsonNode node) {
        if (node.isTextual()) return List.of(new Input(node.textValue(), null, null));
        if (!node.isArray()) throw ApiException.badRequest("`inputs`: invalid type, expected " + PREDICT_EXPECTING);
        if (node.isEmpty()) throw ApiException.badRequest("`inputs`: invalid length 0, expected " + PREDICT_EXPECTING);
        if (!node.get(0).isArray()) return List.of(sequence(node, "inputs"));
        List<Input> batch = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isArray()) throw ApiException.badRequest("`inputs[" + i + "]`: invalid type, expected " + PREDICT_EXPECTING);
            batch.add(sequence(node.get(i), "inputs[" + i + "]"));
        }
        return batch;
    }

    private static Input sequence(JsonNode array, String field) {
        List<String> texts = stringArray(array, field);
        return switch (texts.size()) {
            case 1 -> new Input(texts.get(0), null, null);
            case 2 -> new Input(texts.get(0), texts.get(1), null);
            default -> throw ApiException.badRequest("`" + field + "`: invalid length " + texts.size() + ", expected " + PREDICT_EXPECTING);
        };
    }

    private boolean truncate(JsonNode body) {
        JsonNode n = body.get("truncate");
        if (n == null || n.isNull()) return options.autoTruncate();
        if (!n.isBoolean()) throw ApiException.badRequest("`truncate` must be a boolean or null, got " + n);
        return n.booleanValue();
    }

    private static boolean leftTruncation(JsonNode body) {
        return switch (text(body, "truncation_direction", "Right")) {
            case "Left", "left" -> true;
            case "Right", "right" -> false;
            default -> throw ApiException.badRequest("`truncation_direction`: unknown variant `" + body.get("truncation_direction").asText()
                    + "`, expected `Left` or `Right`");
        };
    }

    private Integer dimensions(JsonNode body) {
        JsonNode n = body.get("dimensions");
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw ApiException.badRequest("`dimensions` must be an integer >= 0 or null, got " + n);
        }
        if (n.intValue() == 0) throw ApiException.validation("`dimensions` should be positive");
        if (n.intValue() > hidden) throw ApiException.validation("`dimensions` should be smaller than the maximum embedding dimension.");
        return n.intValue();
    }

    /** bertj does not read sentence-transformers' prompts (config_sentence_transformers.json) yet. */
    private static void noPromptName(JsonNode body) {
        if (present(body, "prompt_name")) {
            throw ApiException.validation("`prompt_name` is not supported: this server does not apply sentence-transformers prompts");
        }
    }

    private static boolean present(JsonNode body, String field) {
        JsonNode n = body.get(field);
        return n != null && !n.isNull();
    }

    private static JsonNode required(JsonNode body, String field) {
        if (!present(body, field)) throw ApiException.badRequest("missing field `" + field + "`");
        return body.get(field);
    }

    private static String requiredText(JsonNode body, String field, String name) {
        JsonNode n = required(body, field);
        if (!n.isTextual()) throw ApiException.badRequest("`" + name + "` must be a string, got " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        return n.textValue();
    }

    private static String text(JsonNode body, String field, String defaultValue) {
        if (!present(body, field)) return defaultValue;
        JsonNode n = body.get(field);
        if (!n.isTextual()) throw ApiException.badRequest("`" + field + "` must be a string, got " + n);
        return n.textValue();
    }

    private static boolean bool(JsonNode body, String field, boolean defaultValue) {
        if (!present(body, field)) return defaultValue;
        JsonNode n = body.get(field);
        if (!n.isBoolean()) throw ApiException.badRequest("`" + field + "` must be a boolean, got " + n);
        return n.booleanValue();
    }

    private static List<String> stringArray(JsonNode node, String field) {
        if (!node.isArray()) throw ApiException.badRequest("`" + field + "` must be an array of strings");
        List<String> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isTextual()) throw ApiException.badRequest("`" + field + "[" + i + "]` must be a string, got " + node.get(i));
            out.add(node.get(i).textValue());
        }
        return out;
    }

    // ---------------------------------------------------------------- JSON out

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory
        }
        return out.toByteArray();
    }

    private static void writeFloats(JsonGenerator g, float[] values) throws IOException {
        g.writeStartArray();
        for (float v : values) g.writeNumber(v);
        g.writeEndArray();
    }

    /** OpenAI's base64 embedding: the float32 values' little-endian bytes. */
    static String littleEndianBase64(float[] v) {
        ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
