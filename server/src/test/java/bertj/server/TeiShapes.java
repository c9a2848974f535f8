package bertj.server;

/**
 * The response shapes of text-embeddings-inference, written from its {@code router/src/http/types.rs} and
 * {@code router/src/lib.rs} (serde's field names and optional fields), and from OpenAI's embeddings API: not from
 * this server's output. See {@link Http#assertShape} for the notation.
 */
final class TeiShapes {
    private TeiShapes() {
    }

    /** EmbedResponse(Vec<Vec<f32>>). */
    static final String EMBED = """
            [["$number"]]""";

    /** EmbedAllResponse(Vec<Vec<Vec<f32>>>). */
    static final String EMBED_ALL = """
            [[["$number"]]]""";

    /** SimilarityResponse(Vec<f32>). */
    static final String SIMILARITY = """
            ["$number"]""";

    /** PredictResponse::Single(Vec<Prediction>); Prediction {score: f32, label: String}. */
    static final String PREDICT_SINGLE = """
            [{"score": "$number", "label": "$string"}]""";

    /** PredictResponse::Batch(Vec<Vec<Prediction>>). */
    static final String PREDICT_BATCH = """
            [[{"score": "$number", "label": "$string"}]]""";

    /** RerankResponse(Vec<Rank>); Rank {index: usize, text: Option<String> (skipped when None), score: f32}. */
    static final String RERANK = """
            [{"index": "$integer", "score": "$number"}]""";
    static final String RERANK_WITH_TEXT = """
            [{"index": "$integer", "text": "$string", "score": "$number"}]""";

    /** TokenizeResponse(Vec<Vec<SimpleToken>>); SimpleToken {id: u32, text, special, start: Option, stop: Option}. */
    static final String TOKENIZE = """
            [[{"id": "$integer", "text": "$string", "special": "$boolean", "start": "$integer|null", "stop": "$integer|null"}]]""";

    /** DecodeResponse(Vec<String>). */
    static final String DECODE = """
            ["$string"]""";

    /** OpenAICompatResponse, OpenAICompatEmbedding (Embedding::Float), OpenAICompatUsage. */
    static final String OPENAI_FLOAT = """
            {"object": "list",
             "data": [{"object": "embedding", "embedding": ["$number"], "index": "$integer"}],
             "model": "$string",
             "usage": {"prompt_tokens": "$integer", "total_tokens": "$integer"}}""";

    /** The same with Embedding::Base64(String). */
    static final String OPENAI_BASE64 = """
            {"object": "list",
             "data": [{"object": "embedding", "embedding": "$string", "index": "$integer"}],
             "model": "$string",
             "usage": {"prompt_tokens": "$integer", "total_tokens": "$integer"}}""";

    /** Info, with ModelType serialised lower-case as an externally tagged enum. */
    static String info(String modelType) {
        return """
                {"model_id": "$string", "model_sha": "$string|null", "model_dtype": "$string", "served_model_name": "$string",
                 "model_type": %s,
                 "max_concurrent_requests": "$integer", "max_input_length": "$integer", "max_batch_tokens": "$integer",
                 "max_batch_requests": "$integer|null", "max_client_batch_size": "$integer", "auto_truncate": "$boolean",
                 "tokenization_workers": "$integer", "version": "$string", "sha": "$string|null", "docker_label": "$string|null"}"""
                .formatted(modelType);
    }

    static final String EMBEDDING_MODEL = """
            {"embedding": {"pooling": "$string"}}""";

    /** ClassifierModel {id2label: map, label2id: map}, for the tiny three-label classifier. */
    static final String CLASSIFIER_MODEL = """
            {"classifier": {"id2label": {"0": "negative", "1": "neutral", "2": "positive"},
                            "label2id": {"negative": 0, "neutral": 1, "positive": 2}}}""";

    static final String RERANKER_MODEL = """
            {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}}""";

    /** ErrorResponse {error: String, error_type: ErrorType}; ErrorType's variants serialise by name. */
    static String error(String errorType) {
        return """
                {"error": "$string", "error_type": "%s"}""".formatted(errorType);
    }

    /** OpenAI's error object ({"error": {message, type, param, code}}), with TEI's error type and status as the code. */
    static String openAiError(String errorType, int status) {
        return """
                {"error": {"message": "$string", "type": "%s", "param": null, "code": %d}}""".formatted(errorType, status);
    }
}
