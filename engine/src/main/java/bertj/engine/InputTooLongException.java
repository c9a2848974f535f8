package bertj.engine;

/** An input longer than the model takes, when truncation was not asked for. */
public final class InputTooLongException extends IllegalArgumentException {
    private final int tokens;
    private final int maxLength;

    InputTooLongException(int tokens, int maxLength) {
        super("input is " + tokens + " tokens, longer than this model's maximum of " + maxLength
                + "; shorten it or ask for truncation");
        this.tokens = tokens;
        this.maxLength = maxLength;
    }

    /** The input's length in tokens, special tokens included. */
    public int tokens() {
        return tokens;
    }

    /** The model's maximum ({@link Bert#maxLength()}). */
    public int maxLength() {
        return maxLength;
    }
}
