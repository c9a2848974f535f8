package bertj.loader.hub;

/**
 * A model could not be fetched from the Hub or found in its cache. The message says which model, revision or
 * file, and what to do; it never holds the token.
 */
public final class HubException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** No such model, or a private one the token cannot see. */
        REPO_NOT_FOUND,
        /** No such branch, tag or commit. */
        REVISION_NOT_FOUND,
        /** No such file at that revision. */
        ENTRY_NOT_FOUND,
        /** A gated model whose conditions the token's account has not accepted, or no token. */
        GATED,
        /** Access refused for another reason (HTTP 401 or 403). */
        ACCESS_DENIED,
        /** The model has weights, but not as safetensors. */
        NO_SAFETENSORS,
        /** The Hub could not be reached. */
        NETWORK,
        /** The server answered with an error (HTTP 5xx or 429) every time it was asked. */
        SERVER,
        /** The server's answer does not follow the Hub's protocol. */
        PROTOCOL,
        /** A download's size or sha256 is not what the Hub announced. */
        CHECKSUM,
        /** Offline (HF_HUB_OFFLINE, or no network), and the cache lacks what is needed. */
        NOT_CACHED,
        /** The cache directory cannot be read or written. */
        CACHE
    }

    private final Reason reason;

    public HubException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public HubException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /** Worth trying again: a server error or a network failure. */
    boolean transientFailure() {
        return reason == Reason.SERVER || reason == Reason.NETWORK;
    }
}
