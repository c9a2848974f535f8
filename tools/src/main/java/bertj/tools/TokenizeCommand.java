package bertj.tools;

import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import bertj.tokenizer.Encoding;
import bertj.tokenizer.TokenizerException;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import bertj.tools.JsonLines.Line;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj tokenize MODEL}: JSON Lines in ({@code {"text": ..., "text_pair": ...}}), one JSON object per
 * input line out, with the fields of Hugging Face's {@code Encoding}; offsets in Unicode code points.
 *
 * <p>Options follow {@code transformers}' tokenizer call: {@code --max-length} alone truncates
 * ({@code longest_first}); {@code --padding max_length} pads to {@code --max-length} (else model_max_length);
 * {@code --stride} adds the {@code "overflowing"} windows. With none of them, the tokenizer's own saved
 * settings apply, as in the {@code tokenizers} library: for a {@code tokenizer.json} with truncation and
 * padding sections (the default model's: 128 tokens) those, otherwise none.
 *
 * <p>A line that is not a JSON object with a string {@code "text"}, or whose encoding is impossible, gets
 * {@code {"error": "line N: ..."}} on stdout and the same message on stderr; the other lines are answered
 * and the exit code is 1.
 */
@Command(name = "tokenize", description = {
        "Tokenize JSON Lines from stdin ({\"text\": ..., \"text_pair\": ...}) into ids, tokens, type ids, masks and offsets.",
        "Without options the tokenizer's saved settings apply (for 'default': truncation and padding to 128)."})
final class TokenizeCommand extends CliCommand {
    @Parameters(paramLabel = "MODEL", description = ModelArgument.HELP)
    String model;

    @Option(names = "--max-length", paramLabel = "N", description = "Length to truncate (or pad) to, special tokens included.")
    Integer maxLength;

    @Option(names = "--truncation", paramLabel = "STRATEGY", converter = TruncationConverter.class,
            description = "longest_first, only_first, only_second, or none (turns off the tokenizer's saved truncation).")
    Truncation truncation;

    @Option(names = "--padding", paramLabel = "STRATEGY", converter = PaddingConverter.class,
            description = "longest (the whole input is one batch), max_length, or none (turns off the tokenizer's saved padding).")
    Padding padding;

    @Option(names = "--stride", paramLabel = "N",
            description = "Tokens shared by consecutive windows; adds \"overflowing\" windows (needs truncation).")
    Integer stride;

    @Override
    public Integer call() throws IOException {
        EncodeOptions userOptions = options();
        BertTokenizer tokenizer = BertTokenizer.fromDirectory(ModelArgument.resolve(model));
        EncodeOptions options = userOptions != null ? userOptions : tokenizer.defaultOptions();
        JsonLines.Input input = new JsonLines.Input(in());
        JsonGenerator json = JsonLines.generator(out()); // ASCII only, as Python's json.dumps: lone surrogates survive
        boolean failed = false;
        if (options.padding() == Padding.LONGEST) {
            List<Line> lines = new ArrayList<>();
            for (Line line; (line = input.next()) != null; ) lines.add(line);
            for (Encoded e : encodeBatch(tokenizer, lines, options)) failed |= write(json, e);
        } else {
            for (Line line; (line = input.next()) != null; ) {
                failed |= write(json, encode(tokenizer, line, options));
                if (!input.ready()) json.flush(); // answer interactive input line by line
            }
        }
        json.flush();
        return failed ? Main.ERROR : Main.OK;
    }

    /** The options the flags ask for, or null when no flag is given (the tokenizer's own settings apply). */
    private EncodeOptions options() {
        if (maxLength == null && truncation == null && padding == null && stride == null) return null;
        if (maxLength != null && maxLength <= 0) throw usage("--max-length must be positive, got " + maxLength);
        if (stride != null && stride < 0) throw usage("--stride must be >= 0, got " + stride);
        Truncation t = truncation;
        // transformers: a max_length without truncation or padding means longest_first truncation
        if (t == null) {
            t = maxLength != null && (padding == null || padding == Padding.NONE) ? Truncation.LONGEST_FIRST : Truncation.NONE;
        }
        if (stride != null && t == Truncation.NONE) throw usage("--stride needs truncation: give --max-length or --truncation");
        EncodeOptions o = EncodeOptions.DEFAULT.withTruncation(t, maxLength).withPadding(padding == null ? Padding.NONE : padding);
        return stride == null ? o : o.withStride(stride).withReturnOverflowing(true);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** A line's encoding, or its error. */
    private record Encoded(int line, Encoding encoding, String error) {
    }

    private static Encoded encode(BertTokenizer tokenizer, Line line, EncodeOptions options) {
        if (line.error() != null) return new Encoded(line.number(), null, line.error());
        try {
            return new Encoded(line.number(), tokenizer.encode(line.text(), line.pair(), options), null);
        } catch (TokenizerException | IllegalArgumentException e) {
            return new Encoded(line.number(), null, e.getMessage());
        }
    }

    /** All good lines as one batch (padded to its longest); each line's error found first on its own. */
    private static List<Encoded> encodeBatch(BertTokenizer tokenizer, List<Line> lines, EncodeOptions options) {
        List<Encoded> out = new ArrayList<>();
        List<Integer> batch = new ArrayList<>();
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        for (Line line : lines) {
            Encoded alone = encode(tokenizer, line, options.withPadding(Padding.NONE));
            out.add(alone);
            if (alone.error() != null) continue;
            batch.add(out.size() - 1);
            texts.add(line.text());
            pairs.add(line.pair());
        }
        boolean anyPair = pairs.stream().anyMatch(p -> p != null);
        List<Encoding> padded = tokenizer.encodeBatch(texts, anyPair ? pairs : null, options);
        for (int i = 0; i < batch.size(); i++) out.set(batch.get(i), new Encoded(out.get(batch.get(i)).line(), padded.get(i), null));
        return out;
    }

    /** Writes one output line; true when it reports an error. */
    private boolean write(JsonGenerator json, Encoded e) throws IOException {
        if (e.error() != null) {
            String message = "line " + e.line() + ": " + e.error();
            json.writeStartObject();
            json.writeStringField("error", message);
            json.writeEndObject();
            json.writeRaw('\n');
            json.flush();
            err().println("bertj: " + message);
            return true;
        }
        writeEncoding(json, e.encoding(), stride != null);
        json.writeRaw('\n');
        return false;
    }

    private static void writeEncoding(JsonGenerator json, Encoding e, boolean withOverflowing) throws IOException {
        json.writeStartObject();
        writeInts(json, "ids", e.ids());
        json.writeArrayFieldStart("tokens");
        for (String t : e.tokens()) json.writeString(t);
        json.writeEndArray();
        writeInts(json, "type_ids", e.typeIds());
        writeInts(json, "attention_mask", e.attentionMask());
        writeInts(json, "special_tokens_mask", e.specialTokensMask());
        json.writeArrayFieldStart("offsets");
        int[] starts = e.codePointStarts(), ends = e.codePointEnds();
        for (int i = 0; i < starts.length; i++) {
            json.writeStartArray();
            json.writeNumber(starts[i]);
            json.writeNumber(ends[i]);
            json.writeEndArray();
        }
        json.writeEndArray();
        if (withOverflowing) {
            json.writeArrayFieldStart("overflowing");
            for (Encoding window : e.overflowing()) writeEncoding(json, window, false);
            json.writeEndArray();
        }
        json.writeEndObject();
    }

    private static void writeInts(JsonGenerator json, String field, int[] values) throws IOException {
        json.writeArrayFieldStart(field);
        for (int v : values) json.writeNumber(v);
        json.writeEndArray();
    }

    static final class TruncationConverter extends NameConverter<Truncation> {
        TruncationConverter() {
            super(List.of("longest_first", "only_first", "only_second", "none"),
                    List.of(Truncation.LONGEST_FIRST, Truncation.ONLY_FIRST, Truncation.ONLY_SECOND, Truncation.NONE));
        }
    }

    static final class PaddingConverter extends NameConverter<Padding> {
        PaddingConverter() {
            super(List.of("longest", "max_length", "none"), List.of(Padding.LONGEST, Padding.MAX_LENGTH, Padding.NONE));
        }
    }
}
