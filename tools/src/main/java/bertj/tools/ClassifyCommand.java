package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.InputTooLongException;
import bertj.engine.Results.Classification;
import bertj.tools.JsonLines.Line;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/**
 * {@code bertj classify MODEL TEXT [--pair TEXT]}: a {@code BertForSequenceClassification} checkpoint's answer,
 * {@code {"label": ..., "score": ..., "probabilities": {label: p, ...}}}, labels from the config's id2label. The
 * scores are {@link bertj.engine.Bert#classify}'s: softmax, sigmoid (multi-label, one label) or raw (regression).
 *
 * <p>Without TEXT it reads JSON Lines from stdin ({@code {"text": ..., "text_pair": ...}}) and answers each line
 * with the same object plus the line's {@code text} (and {@code text_pair}), in order, classifying a window of
 * lines per batch as {@code embed} does. A line that cannot be used, or is too long without {@code --truncate},
 * gets an error line.
 */
@Command(name = "classify", description = {"Classify a text, or a text pair (NLI), with a sequence classification model.",
        "Without TEXT: JSON Lines from stdin ({\"text\": ..., \"text_pair\": ...}), one answer per line."})
final class ClassifyCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Mixin
    QuietOption quiet;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT",
            description = "The text to classify (the premise for NLI); else JSON Lines on stdin.")
    String text;

    @Option(names = "--pair", paramLabel = "TEXT", description = "The second text of a pair (e.g. the hypothesis for NLI).")
    String pair;

    @Option(names = "--truncate", description = "Cut input longer than the model's maximum length instead of refusing it.")
    boolean truncate;

    @Override
    public Integer call() throws IOException {
        if (text == null && pair != null) throw new ParameterException(spec.commandLine(), "--pair needs TEXT");
        try (Bert bert = model.load()) {
            JsonGenerator json = JsonLines.generator(out());
            if (text != null) {
                Classification c;
                try {
                    c = bert.classify(text, pair, truncate);
                } catch (InputTooLongException e) {
                    throw new IllegalArgumentException(TooLong.message(e), e);
                }
                write(json, null, c);
                json.flush();
                return Main.OK;
            }
            boolean failed = answerStdinWindows(quiet.quiet, lines -> classify(bert, lines, json));
            json.flush();
            return failed ? Main.ERROR : Main.OK;
        }
    }

    /** Classifies the usable lines as one batch and writes every line's answer in order; true when one failed. */
    private boolean classify(Bert bert, List<Line> lines, JsonGenerator json) throws IOException {
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        String[] errors = new String[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            Line line = lines.get(i);
            errors[i] = line.error() != null ? line.error() : TooLong.of(bert, line, truncate);
            if (errors[i] != null) continue;
            texts.add(line.text());
            pairs.add(line.pair());
        }
        List<Classification> answers = bert.classify(texts, pairs, truncate);
        boolean failed = false;
        for (int i = 0, a = 0; i < lines.size(); i++) {
            if (errors[i] != null) {
                JsonLines.writeError(json, err(), lines.get(i).number(), errors[i]);
                failed = true;
            } else {
                write(json, lines.get(i), answers.get(a++));
            }
        }
        json.flush();
        return failed;
    }

    /** One answer; with the input line's text (and pair) when it came from stdin. */
    private static void write(JsonGenerator json, Line line, Classification c) throws IOException {
        json.writeStartObject();
        if (line != null) {
            JsonLines.writeId(json, line);
            json.writeStringField("text", line.text());
            if (line.pair() != null) json.writeStringField("text_pair", line.pair());
        }
        json.writeStringField("label", c.label());
        json.writeNumberField("score", c.score());
        json.writeObjectFieldStart("probabilities");
        for (Map.Entry<String, Double> p : c.probabilities().entrySet()) json.writeNumberField(p.getKey(), p.getValue());
        json.writeEndObject();
        json.writeEndObject();
        JsonLines.endLine(json);
    }
}
