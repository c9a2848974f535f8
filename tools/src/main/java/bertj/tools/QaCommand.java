package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.Results.Answer;
import bertj.tokenizer.TokenizerException;
import bertj.tools.JsonLines.Line;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code bertj qa MODEL --question Q --context C}: the answer a {@code BertForQuestionAnswering} checkpoint
 * extracts, {@code {"answer", "start", "end", "score"}}: the exact substring of the context at code point indices
 * [start, end). A long context is read in overlapping windows and the best span of any window wins.
 *
 * <p>Without --question and --context it reads JSON Lines from stdin ({@code {"question": ..., "context": ...}})
 * and answers each line, in order, with the same object plus the line's {@code id} if it has one; a line that
 * cannot be used gets an error line. Each line's windows run as one batch.
 */
@Command(name = "qa", description = {"Extract the answer to a question from a context, with a question answering model.",
        "Without --question and --context: JSON Lines from stdin ({\"question\": ..., \"context\": ...}), one answer per line."})
final class QaCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Mixin
    QuietOption quiet;

    @Option(names = "--question", paramLabel = "Q", description = "The question.")
    String question;

    @Option(names = "--context", paramLabel = "C",
            description = "The text that holds the answer; any length (read in overlapping windows).")
    String context;

    @Override
    public Integer call() throws IOException {
        if ((question == null) != (context == null)) {
            throw new ParameterException(spec.commandLine(), "give both --question and --context, or neither (JSON Lines on stdin)");
        }
        try (Bert bert = model.load()) {
            JsonGenerator json = JsonLines.generator(out());
            if (question != null) {
                write(json, null, context, bert.answer(question, context));
                json.flush();
                return Main.OK;
            }
            boolean failed = false;
            JsonLines.Input input = new JsonLines.Input(in(), "question", "context");
            Progress progress = Progress.forStdin(in(), err(), quiet.quiet);
            long done = 0;
            for (Line line; (line = input.next()) != null; ) {
                String error = line.error();
                Answer answer = null;
                if (error == null) {
                    try {
                        answer = bert.answer(line.text(), line.pair());
                    } catch (TokenizerException e) {
                        error = e.getMessage();
                    }
                }
                if (error != null) {
                    JsonLines.writeError(json, err(), line.number(), error);
                    failed = true;
                } else {
                    write(json, line, line.pair(), answer);
                }
                if (!input.ready()) json.flush(); // answer interactive input line by line
                if (progress != null) progress.update(++done, input.bytesRead());
            }
            if (progress != null) progress.finish();
            json.flush();
            return failed ? Main.ERROR : Main.OK;
        }
    }

    /** One answer, with the line's id when it came from stdin. */
    private static void write(JsonGenerator json, Line line, String context, Answer a) throws IOException {
        json.writeStartObject();
        JsonLines.writeId(json, line);
        json.writeStringField("answer", a.text());
        json.writeNumberField("start", JsonLines.codePointIndex(context, a.start()));
        json.writeNumberField("end", JsonLines.codePointIndex(context, a.end()));
        json.writeNumberField("score", a.score());
        json.writeEndObject();
        JsonLines.endLine(json);
    }
}
