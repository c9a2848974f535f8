package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.InputTooLongException;
import bertj.tokenizer.EncodeOptions;
import bertj.tools.JsonLines.Line;

/** The CLI's words for an input longer than the model takes: they name {@code --truncate}. */
final class TooLong {
    private TooLong() {}

    static String message(InputTooLongException e) {
        return message(e.tokens(), e.maxLength());
    }

    static String message(int tokens, int maxLength) {
        return "input is " + tokens + " tokens, longer than this model's maximum of " + maxLength
                + "; shorten it or give --truncate";
    }

    /** The error of a stdin line too long for the model, or null (always null when truncating). */
    static String of(Bert bert, Line line, boolean truncate) {
        if (truncate) return null;
        int tokens = bert.tokenizer().encode(line.text(), line.pair(), EncodeOptions.DEFAULT).length();
        return tokens <= bert.maxLength() ? null : message(tokens, bert.maxLength());
    }
}
