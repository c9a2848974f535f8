package bertj.tokenizer;

/**
 * A tokenizer file is missing, malformed or unsupported, or an encode request cannot be satisfied
 * (for example {@code ONLY_SECOND} truncation without a second sequence, or a first sequence that leaves
 * no room for the second). The message names the file or option and the problem.
 */
public class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
