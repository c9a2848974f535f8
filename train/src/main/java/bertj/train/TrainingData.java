package bertj.train;

import bertj.engine.Bert;
import bertj.loader.ModelFormatException;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads training and eval files, JSON Lines of one object per line (blank lines skipped):
 * <ul>
 *   <li>for sequence classification {@code {"text": ..., "text_pair": ..., "label": ...}}, where the label is a
 *       string (one label), a list of strings (multi-label) or a number (regression), the same kind on every line;
 *   <li>for token classification {@code {"tokens": [...], "tags": [...]}}, one BIO tag per token.
 * </ul>
 * A line that cannot be used is an {@link IllegalArgumentException} naming the file and the line.
 */
public final class TrainingData {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TrainingData() {
    }

    /** The texts of a sequence classification file. */
    public static List<TextExample> readTexts(Path file) {
        List<TextExample> examples = new ArrayList<>();
        ProblemType kind = null;
        int kindLine = 0;
        for (Line line : lines(file)) {
            JsonNode text = line.json.get("text"), pair = line.json.get("text_pair"), label = line.json.get("label");
            if (text == null || !text.isTextual()) throw line.error("\"text\" must be a string");
            if (pair != null && !pair.isNull() && !pair.isTextual()) throw line.error("\"text_pair\" must be a string or null");
            if (label == null || label.isNull()) throw line.error("no \"label\"");
            ProblemType lineKind;
            List<String> labels = new ArrayList<>();
            double value = Double.NaN;
            if (label.isTextual()) {
                lineKind = ProblemType.SINGLE_LABEL;
                labels.add(label.textValue());
            } else if (label.isArray()) {
                lineKind = ProblemType.MULTI_LABEL;
                for (JsonNode l : label) {
                    if (!l.isTextual()) throw line.error("\"label\" must be a list of strings for multi-label, found " + l);
                    if (!labels.contains(l.textValue())) labels.add(l.textValue());
                }
            } else if (label.isNumber()) {
                lineKind = ProblemType.REGRESSION;
                value = label.doubleValue();
                if (!Double.isFinite(value)) throw line.error("\"label\" must be a finite number");
            } else {
                throw line.error("\"label\" must be a string (a class), a list of strings (multi-label) or a number "
                        + "(regression), found " + label);
            }
            if (kind == null) {
                kind = lineKind;
                kindLine = line.number;
            } else if (kind != lineKind) {
                throw line.error("\"label\" is " + describe(lineKind) + " but line " + kindLine + "'s is " + describe(kind)
                        + ": every line's label must be of one kind");
            }
            String pairText = pair == null || pair.isNull() ? null : pair.textValue();
            examples.add(new TextExample(text.textValue(), pairText, lineKind, labels, value, line.number));
        }
        return examples;
    }

    /** The sentences of a token classification file. */
    public static List<TaggedSentence> readTagged(Path file) {
        List<TaggedSentence> sentences = new ArrayList<>();
        for (Line line : lines(file)) {
            List<String> tokens = strings(line, "tokens"), tags = strings(line, "tags");
            if (tokens.isEmpty()) throw line.error("\"tokens\" is empty");
            if (tokens.size() != tags.size()) {
                throw line.error(tokens.size() + " tokens but " + tags.size() + " tags: every token needs its tag");
            }
            for (String tag : tags) {
                if (!isBio(tag)) {
                    throw line.error("tag \"" + tag + "\" is not a BIO tag (\"O\", \"B-TYPE\" or \"I-TYPE\")");
                }
            }
            sentences.add(new TaggedSentence(tokens, tags, line.number));
        }
        return sentences;
    }

    /** A trainer of a head on examples of type {@code T}, named for messages. */
    @FunctionalInterface
    interface Trainer<T> {
        TrainedHead train(Bert bert, List<T> train, String trainName, List<T> eval, String evalName);
    }

    /** Reads the training file and the eval file (null: none), loads the model and trains; the files name the sets. */
    static <T> TrainedHead trainOnFiles(Path model, Path trainFile, Path evalFile, Function<Path, List<T>> read, Trainer<T> trainer) {
        List<T> train = read.apply(trainFile);
        List<T> eval = evalFile == null ? null : read.apply(evalFile);
        try (Bert bert = Bert.load(model)) {
            return trainer.train(bert, train, trainFile.toString(), eval, evalFile == null ? null : evalFile.toString());
        }
    }

    static boolean isBio(String tag) {
        return tag.equals("O") || (tag.startsWith("B-") || tag.startsWith("I-")) && tag.length() > 2;
    }

    private static String describe(ProblemType kind) {
        return switch (kind) {
            case SINGLE_LABEL -> "a string";
            case MULTI_LABEL -> "a list";
            case REGRESSION -> "a number";
        };
    }

    private static List<String> strings(Line line, String field) {
        JsonNode node = line.json.get(field);
        if (node == null || !node.isArray()) throw line.error("\"" + field + "\" must be a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) {
            if (!n.isTextual()) throw line.error("\"" + field + "\" must be a list of strings, found " + n);
            out.add(n.textValue());
        }
        return out;
    }

    private record Line(Path file, int number, JsonNode json) {
        IllegalArgumentException error(String message) {
            return new IllegalArgumentException(file + ": line " + number + ": " + message);
        }
    }

    /** The file's objects, one per line that is not blank. */
    private static List<Line> lines(Path file) {
        String content;
        try {
            content = TextFiles.readUtf8(file);
        } catch (ModelFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        List<Line> lines = new ArrayList<>();
        String[] raw = content.split("\r\n|\r|\n", -1);
        for (int i = 0; i < raw.length; i++) {
            String s = i == 0 && raw[i].startsWith("\uFEFF") ? raw[i].substring(1) : raw[i];
            if (s.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(s);
            } catch (JacksonException e) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + ": expected a JSON object");
            }
            lines.add(new Line(file, i + 1, node));
        }
        if (lines.isEmpty()) throw new IllegalArgumentException(file + ": no examples (the file is empty)");
        return lines;
    }
}
