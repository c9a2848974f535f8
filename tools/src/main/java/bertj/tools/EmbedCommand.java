package bertj.tools;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.loader.PoolingConfig;
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
 * {@code bertj embed MODEL [TEXT ...]}: one sentence embedding per text, {@code {"text": ..., "embedding": [...]}}
 * per line, from the arguments or else from JSON Lines on stdin. For a sentence-transformers model the pooling
 * and normalisation are the model's own ({@code 1_Pooling/config.json}, {@code Normalize}), so the vectors are
 * {@code SentenceTransformer.encode}'s; otherwise CLS pooling without normalisation. Inputs are truncated to the
 * model's maximum length, as sentence-transformers does.
 */
@Command(name = "embed", description = {
        "Sentence embeddings of the TEXT arguments, or of JSON Lines from stdin ({\"text\": ...}).",
        "Defaults: a sentence-transformers model's own pooling and normalisation, else CLS, not normalised."})
public final class EmbedCommand extends CliCommand {
    /**
     * Most lines read before they are embedded and written: {@link Bert#embed} packs them into forwards of
     * whole sequences without padding, so a window needs only enough lines to fill a few forwards; memory
     * stays the same however long the input.
     */
    public static final int WINDOW = 256;

    @Mixin
    ModelToRun model;

    @Mixin
    QuietOption quiet;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "TEXT", description = "Texts to embed (else JSON Lines on stdin).")
    List<String> texts = List.of();

    @Option(names = "--pooling", paramLabel = "MODE", converter = PoolingConverter.class,
            description = "cls, mean or max (default: the model's own).")
    Pooling pooling;

    @Option(names = "--normalize", negatable = true,
            description = "L2-normalise the embeddings, or not (--no-normalize); default: the model's own.")
    Boolean normalize;

    @Override
    public Integer call() throws IOException {
        try (Bert bert = model.load()) {
            PoolingConfig own = bert.defaultPooling();
            Pooling mode = pooling != null ? pooling : Pooling.valueOf(own.mode().name());
            boolean unit = normalize != null ? normalize : own.normalize();
            JsonGenerator json = JsonLines.generator(out());
            boolean failed = false;
            if (!texts.isEmpty()) {
                for (int i = 0; i < texts.size(); i += WINDOW) {
                    List<Line> lines = new ArrayList<>();
                    for (int j = i; j < Math.min(texts.size(), i + WINDOW); j++) lines.add(new Line(j + 1, texts.get(j), null, null));
                    failed |= embed(bert, lines, mode, unit, json);
                }
            } else {
                failed = answerStdinWindows(quiet.quiet, lines -> embed(bert, lines, mode, unit, json));
            }
            json.flush();
            return failed ? Main.ERROR : Main.OK;
        }
    }

    /** Embeds the usable lines and writes every line's answer in order; true when a line failed. */
    private boolean embed(Bert bert, List<Line> lines, Pooling mode, boolean unit, JsonGenerator json) throws IOException {
        List<String> batch = new ArrayList<>();
        for (Line line : lines) if (usable(line)) batch.add(line.text());
        float[][] vectors = bert.embed(batch, mode, unit);
        boolean failed = false;
        int v = 0;
        for (Line line : lines) {
            if (!usable(line)) {
                JsonLines.writeError(json, err(), line.number(), line.error() != null ? line.error()
                        : "\"text_pair\" is not supported: a sentence embedding is of one text");
                failed = true;
                continue;
            }
            json.writeStartObject();
            JsonLines.writeId(json, line);
            json.writeStringField("text", line.text());
            json.writeFieldName("embedding");
            JsonLines.writeFloats(json, vectors[v++]);
            json.writeEndObject();
            JsonLines.endLine(json);
        }
        json.flush();
        return failed;
    }

    private static boolean usable(Line line) {
        return line.error() == null && line.pair() == null;
    }

    static final class PoolingConverter extends NameConverter<Pooling> {
        PoolingConverter() {
            super(List.of("cls", "mean", "max"), List.of(Pooling.CLS, Pooling.MEAN, Pooling.MAX));
        }
    }
}
