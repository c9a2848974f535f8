package bertj.train;

import java.util.List;

/**
 * A sentence as words, with one BIO tag per word ({@code O}, {@code B-TYPE}, {@code I-TYPE}), as the token
 * classification examples of transformers read it. {@code line} is its line in the file it was read from, 0 when
 * it was made in code.
 */
public record TaggedSentence(List<String> tokens, List<String> tags, int line) {
    public TaggedSentence {
        tokens = List.copyOf(tokens);
        tags = List.copyOf(tags);
        if (tokens.size() != tags.size()) {
            throw new IllegalArgumentException((line > 0 ? "line " + line + ": " : "") + tokens.size() + " tokens but "
                    + tags.size() + " tags: every token needs its tag");
        }
    }

    public TaggedSentence(List<String> tokens, List<String> tags) {
        this(tokens, tags, 0);
    }

    /** "line N" or "example N" (from 1) for messages. */
    String where(int index) {
        return line > 0 ? "line " + line : "example " + (index + 1);
    }
}
