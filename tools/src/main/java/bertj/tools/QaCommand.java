package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.Results.Answer;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj qa MODEL --question Q --context C}: the answer a {@code BertForQuestionAnswering} checkpoint
 * extracts, {@code {"answer", "start", "end", "score"}}: the exact substring of the context at code point indices
 * [start, end). A long context is read in overlapping windows and the best span of any window wins.
 */
@Command(name = "qa", description = "Extract the answer to a question from a context, with a question answering model.")
final class QaCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = DefaultModel.MODEL_HELP)
    String model;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--question", required = true, paramLabel = "Q", description = "The question.")
    String question;

    @Option(names = "--context", required = true, paramLabel = "C",
            description = "The text that holds the answer; any length (read in overlapping windows).")
    String context;

    @Override
    public Integer call() throws IOException {
        Answer a;
        try (Bert bert = Bert.load(DefaultModel.resolveModel(model), precision.value())) {
            a = bert.answer(question, context);
        }
        JsonGenerator json = JsonLines.generator(out());
        json.writeStartObject();
        json.writeStringField("answer", a.text());
        json.writeNumberField("start", JsonLines.codePointIndex(context, a.start()));
        json.writeNumberField("end", JsonLines.codePointIndex(context, a.end()));
        json.writeNumberField("score", a.score());
        json.writeEndObject();
        JsonLines.endLine(json);
        json.flush();
        return Main.OK;
    }
}
