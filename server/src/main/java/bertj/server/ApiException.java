package bertj.server;

/**
 * A request that cannot be answered: the HTTP status, text-embeddings-inference's {@code error_type} and the message,
 * sent as {@code {"error": ..., "error_type": ...}} (or OpenAI's shape on {@code /v1/...}).
 */
final class ApiException extends RuntimeException {
    /** TEI's error types, and the status each one gets there. */
    enum Type {
        Unhealthy(503), Backend(424), Overloaded(429), Validation(422), Tokenizer(422), Empty(400),
        // HTTP-level refusals, which TEI answers without a JSON body
        Unauthorized(401), NotFound(404), MethodNotAllowed(405);

        final int status;

        Type(int status) {
            this.status = status;
        }
    }

    final Type type;
    final int status;

    ApiException(Type type, String message) {
        this(type, type.status, message);
    }

    ApiException(Type type, int status, String message) {
        super(message, null, false, false); // an answer to the client, not a bug: no stack trace
        this.type = type;
        this.status = status;
    }

    /** TEI's TextEmbeddingsError::Validation, as it prints. */
    static ApiException validation(String message) {
        return new ApiException(Type.Validation, "Input validation error: " + message);
    }

    /** TEI's TextEmbeddingsError::Backend, as it prints. */
    static ApiException backend(String message) {
        return new ApiException(Type.Backend, "Backend error: " + message);
    }

    /** A malformed request body or field: TEI (serde) answers 422 with the parser's message. */
    static ApiException badRequest(String message) {
        return new ApiException(Type.Validation, message);
    }
}
