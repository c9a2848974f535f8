package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.InputTooLongException;
import bertj.engine.Results.Entity;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
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
 */
@Command(name = "ner", description = "Named entities in a text, with a token classification model.")
final class NerCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = DefaultModel.MODEL_HELP)
    String model;

    @Mixin
    PrecisionOption precision;

    @Parameters(index = "1", paramLabel = "TEXT", description = "The text to find entities in.")
    String text;

    @Option(names = "--truncate", description = "Cut input longer than the model's maximum length instead of refusing it.")
    boolean truncate;

    @Override
    public Integer call() throws IOException {
        List<Entity> entities;
        try (Bert bert = Bert.load(DefaultModel.resolveModel(model), precision.value())) {
            try {
                entities = bert.entities(text, truncate);
            } catch (InputTooLongException e) {
                throw new IllegalArgumentException("input is " + e.tokens() + " tokens, longer than this model's maximum of "
                        + e.maxLength() + "; shorten it or give --truncate", e);
            }
        }
        JsonGenerator json = JsonLines.generator(out());
        json.writeStartObject();
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
        json.flush();
        return Main.OK;
    }
}
