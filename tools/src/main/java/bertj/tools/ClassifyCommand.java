package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.InputTooLongException;
import bertj.engine.Results.Classification;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj classify MODEL TEXT [--pair TEXT]}: a {@code BertForSequenceClassification} checkpoint's answer,
 * {@code {"label": ..., "score": ..., "probabilities": {label: p, ...}}}, labels from the config's id2label. The
 * scores are {@link bertj.engine.Bert#classify}'s: softmax, sigmoid (multi-label, one label) or raw (regression).
 */
@Command(name = "classify", description = "Classify a text, or a text pair (NLI), with a sequence classification model.")
final class ClassifyCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = DefaultModel.MODEL_HELP)
    String model;

    @Mixin
    PrecisionOption precision;

    @Parameters(index = "1", paramLabel = "TEXT", description = "The text to classify (the premise for NLI).")
    String text;

    @Option(names = "--pair", paramLabel = "TEXT", description = "The second text of a pair (e.g. the hypothesis for NLI).")
    String pair;

    @Option(names = "--truncate", description = "Cut input longer than the model's maximum length instead of refusing it.")
    boolean truncate;

    @Override
    public Integer call() throws IOException {
        Classification c;
        try (Bert bert = Bert.load(DefaultModel.resolveModel(model), precision.value())) {
            try {
                c = bert.classify(text, pair, truncate);
            } catch (InputTooLongException e) {
                throw new IllegalArgumentException("input is " + e.tokens() + " tokens, longer than this model's maximum of "
                        + e.maxLength() + "; shorten it or give --truncate", e);
            }
        }
        JsonGenerator json = JsonLines.generator(out());
        json.writeStartObject();
        json.writeStringField("label", c.label());
        json.writeNumberField("score", c.score());
        json.writeObjectFieldStart("probabilities");
        for (Map.Entry<String, Double> p : c.probabilities().entrySet()) json.writeNumberField(p.getKey(), p.getValue());
        json.writeEndObject();
        json.writeEndObject();
        JsonLines.endLine(json);
        json.flush();
        return Main.OK;
    }
}
