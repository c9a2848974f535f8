package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.EncodeOptions.Truncation;
import bertj.tokenizer.Encoding;
import bertj.tokenizer.TokenizerException;
import bertj.tools.JsonLines.Line;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code bertj encode MODEL}: what {@code BertModel(**tokenizer(text, text_pair, return_tensors="pt"))} returns,
 * for each JSON Lines input line: {@code tokens}, {@code last_hidden_state} [seq][hidden], {@code pooler_output}
 * [hidden] (null when the checkpoint has no pooler), and with {@code --all-layers} {@code hidden_states}
 * [layers + 1][seq][hidden], the embedding output first.
 *
 * <p>Each line is one sequence (a batch of one, no padding). Nothing is truncated unless asked: a line longer
 * than max_position_embeddings gets a per-line error, as does a malformed line; the others are answered and the
 * exit code is 1.
 */
@Command(name = "encode", description = {
        "Run the encoder on JSON Lines from stdin ({\"text\": ..., \"text_pair\": ...}).",
        "Writes tokens, last_hidden_state, pooler_output (and hidden_states) per line, floats in full precision;",
        "an input longer than max_position_embeddings is an error unless truncation is asked."})
final class EncodeCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Option(names = "--all-layers", description = "Also write hidden_states: the embedding output and every layer's output.")
    boolean allLayers;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Truncate each input to N tokens, special tokens included (longest_first for pairs).")
    Integer maxLength;

    @Option(names = "--truncate",
            description = "Truncate each input to the model's maximum (model_max_length, at most max_position_embeddings).")
    boolean truncate;

    @Override
    public Integer call() throws IOException {
        if (maxLength != null && maxLength <= 0) throw new ParameterException(spec.commandLine(), "--max-length must be positive, got " + maxLength);
        try (Bert bert = model.load()) {
            int positions = bert.model().config().maxPositionEmbeddings();
            EncodeOptions options = options(bert, positions);
            JsonLines.Input input = new JsonLines.Input(in());
            JsonGenerator json = JsonLines.generator(out());
            boolean failed = false;
            for (Line line; (line = input.next()) != null; ) {
                String error = line.error() != null ? line.error() : encode(bert, line, options, positions, json);
                if (error != null) {
                    JsonLines.writeError(json, err(), line.number(), error);
                    failed = true;
                }
                if (!input.ready()) json.flush(); // answer interactive input line by line
            }
            json.flush();
            return failed ? Main.ERROR : Main.OK;
        }
    }

    /** No truncation unless asked; --max-length wins over --truncate. */
    private EncodeOptions options(Bert bert, int positions) {
        if (maxLength != null && maxLength > positions) {
            throw new IllegalArgumentException("--max-length " + maxLength + " is more than the model's max_position_embeddings "
                    + positions);
        }
        int modelMax = bert.tokenizer().modelMaxLength();
        Integer limit = maxLength != null ? maxLength : truncate ? (modelMax > 0 ? Math.min(modelMax, positions) : positions) : null;
        return limit == null ? EncodeOptions.DEFAULT : EncodeOptions.DEFAULT.withTruncation(Truncation.LONGEST_FIRST, limit);
    }

    /** Writes one line's outputs; returns the line's error instead when it cannot be encoded. */
    private String encode(Bert bert, Line line, EncodeOptions options, int positions, JsonGenerator json) throws IOException {
        BaseModelOutputWithPooling output;
        Encoding encoding;
        try {
            encoding = bert.tokenizer().encode(line.text(), line.pair(), options);
            if (encoding.length() > positions) {
                return "the input is " + encoding.length() + " tokens, more than the model's max_position_embeddings "
                        + positions + "; pass --truncate or --max-length N to truncate it";
            }
            output = bert.model().forward(BertInput.of(encoding.ids(), encoding.typeIds()), allLayers, false);
        } catch (TokenizerException | IllegalArgumentException e) {
            return e.getMessage();
        }
        json.writeStartObject();
        json.writeArrayFieldStart("tokens");
        for (String token : encoding.tokens()) json.writeString(token);
        json.writeEndArray();
        json.writeFieldName("last_hidden_state");
        JsonLines.writeMatrix(json, output.lastHiddenState()[0]);
        json.writeFieldName("pooler_output");
        if (output.poolerOutput() == null) json.writeNull();
        else JsonLines.writeFloats(json, output.poolerOutput()[0]);
        if (allLayers) {
            json.writeArrayFieldStart("hidden_states");
            for (float[][][] layer : output.hiddenStates()) JsonLines.writeMatrix(json, layer[0]);
            json.writeEndArray();
        }
        json.writeEndObject();
        JsonLines.endLine(json);
        return null;
    }
}
