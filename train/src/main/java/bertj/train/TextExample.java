package bertj.train;

import java.util.List;

/**
 * A text (and optional pair) with what a sequence classification head should answer for it: a label, a set of
 * labels (multi-label), or a number (regression). {@code line} is its line in the file it was read from, 0 when
 * it was made in code; messages name it.
 */
public record TextExample(String text, String pair, ProblemType problemType, List<String> labels, double value, int line) {
    public TextExample {
        if (text == null) throw new IllegalArgumentException("text must not be null");
        labels = List.copyOf(labels);
    }

    /** A text of one label. */
    public static TextExample labeled(String text, String pair, String label) {
        return new TextExample(text, pair, ProblemType.SINGLE_LABEL, List.of(label), Double.NaN, 0);
    }

    /** A text of any number of labels. */
    public static TextExample multiLabeled(String text, String pair, List<String> labels) {
        return new TextExample(text, pair, ProblemType.MULTI_LABEL, labels, Double.NaN, 0);
    }

    /** A text and its number. */
    public static TextExample scored(String text, String pair, double value) {
        return new TextExample(text, pair, ProblemType.REGRESSION, List.of(), value, 0);
    }

    /** "line N" or "example N" (from 1) for messages. */
    String where(int index) {
        return line > 0 ? "line " + line : "example " + (index + 1);
    }
}
