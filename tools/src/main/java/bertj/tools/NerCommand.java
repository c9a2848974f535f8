package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.InputTooLongException;
import bertj.engine.Results.Entity;
import bertj.tools.JsonLines.Line;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj ner MODEL TEXT}: the entities a {@code BertForTokenClassification} checkpoint finds,
 * {@code {"entities": [{"label", "text", "start", "end", "score"}, ...]}}, grouped from B-/I- tags as Hugging
 * Face's pipeline does with {@code aggregation_strategy="first"}. start and end are Unicode code point indices,
 * so {@code text[start:end]} in Python is the entity's text.
 *
 * <p>Without TEXT it reads JSON Lines from stdin ({@code {"text": ...}}) and answers each line with the same
 * object plus the line's {@code text}, in order, a window of lines per batch as {@code embed} does. A line that
 * cannot be used, or is too long without {@code --truncate}, gets an error line.
 */
@Command(name = "ner", description = {"Named entities in a text, with a token classification model.",
        "Without TEXT: JSON Lines from stdin ({\"text\": ...}), one answer per line."})
final class NerCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Mixin
    QuietOption quiet;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "The text to find entities in; else JSON Lines on stdin.")
    String text;

    @Option(names = "--truncate", description = "Cut input longer than the model's maximum length instead of refusing it.")
    boolean truncate;

    @Override
    public Integer call() throws IOException {
        try (Bert bert = model.load()) {
            JsonGenerator json = JsonLines.generator(out());
            if (text != null) {
                List<Entity> entities;
                try {
                    entities = bert.entities(text, truncate);
                } catch (InputTooLongException e) {
                    throw new IllegalArgumentException(TooLong.message(e), e);
                }
                write(json, text, null, entities);
                json.flush();
                return Main.OK;
            }
            boolean failed = answerStdinWindows(quiet.quiet, lines -> entities(bert, lines, json));
            json.flush();
            return failed ? Main.ERROR : Main.OK;
        }
    }

    /** The usable lines' entities as one batch, every line's answer written in order; true when one failed. */
    private boolean entities(Bert bert, List<Line> lines, JsonGenerator json) throws IOException {
        List<String> texts = new ArrayList<>();
        String[] errors = new String[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            Line line = lines.get(i);
            errors[i] = line.error() != null ? line.error()
                    : line.pair() != null ? "\"text_pair\" is not supported: ner reads one text"
                    : TooLong.of(bert, line, truncate);
            if (errors[i] == null) texts.add(line.text());
        }
        List<List<Entity>> answers = bert.entities(texts, truncate);
        boolean failed = false;
        for (int i = 0, a = 0; i < lines.size(); i++) {
            if (errors[i] != null) {
                JsonLines.writeError(json, err(), lines.get(i).number(), errors[i]);
                failed = true;
            } else {
                write(json, lines.get(i).text(), lines.get(i), answers.get(a++));
            }
        }
        json.flush();
        return failed;
    }

    /** One answer, with the line's id and text when it came from stdin ({@code line} not null). */
    private static void write(JsonGenerator json, String text, Line line, List<Entity> entities) throws IOException {
        json.writeStartObject();
        if (line != null) {
            JsonLines.writeId(json, line);
            json.writeStringField("text", text);
        }
        json.writeArrayFieldStart("entities");
        for (Entity e : entities) {
            json.writeStartObject();
            json.writeStringField("label", e.label());
            json.writeStringField("text", e.text());
            json.writeNumberField("start", JsonLines.codePointIndex(text, e.start()));
            json.writeNumberField("end", JsonLines.codePointIndex(text, e.end()));
            json.writeNumberField("score", e.score());
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeEndObject();
        JsonLines.endLine(json);
    }
}
