package bertj.spark;

import bertj.engine.Bert;
import bertj.engine.PackedInput;
import bertj.engine.Pooling;
import bertj.loader.PoolingConfig;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Sentence embeddings as a Spark ML transformer: the column of texts in, an {@code array<float>} column out, the
 * same vectors as {@link Bert#embed(List, Pooling, boolean)} (texts cut at the model's maximum length).
 *
 * <pre>{@code
 * Dataset<Row> vectors = new BertEmbedder().setModel("/shared/models/all-MiniLM-L6-v2")
 *         .setInputCol("text").setOutputCol("embedding").transform(texts);
 * }</pre>
 *
 * Each executor loads the model once and shares it between its tasks (see {@link SharedModels}).
 */
public final class BertEmbedder extends BertTransformer<BertEmbedder> implements DefaultParamsWritable {
    private final Param<String> outputCol;
    private final Param<String> pooling;
    private final BooleanParam normalize;

    public BertEmbedder() {
        this(Identifiable.randomUID("BertEmbedder"));
    }

    public BertEmbedder(String uid) {
        super(uid);
        outputCol = new Param<>(this, "outputCol", "the embeddings' column, array<float>");
        pooling = new Param<>(this, "pooling", "cls, mean or max (unset: the model's own, else cls)",
                ParamValidators.inArray(List.of("cls", "mean", "max")));
        normalize = new BooleanParam(this, "normalize", "L2-normalise the embeddings (unset: as the model's own pipeline does)");
        setDefault(outputCol, "embedding");
    }

    /** Reads a saved BertEmbedder (and lets a saved PipelineModel load it). */
    public static MLReader<BertEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    public static BertEmbedder load(String path) {
        return read().load(path);
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> pooling() {
        return pooling;
    }

    public BooleanParam normalize() {
        return normalize;
    }

    public BertEmbedder setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    /** cls, mean or max. */
    public BertEmbedder setPooling(String value) {
        set(pooling, value);
        return this;
    }

    public BertEmbedder setNormalize(boolean value) {
        set(normalize, value);
        return this;
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    /** The pooling asked for, or null for the model's own. */
    public String getPooling() {
        return isDefined(pooling) ? getOrDefault(pooling) : null;
    }

    /** Whether to normalise, or null for the model's own choice. */
    public Boolean getNormalize() {
        return isDefined(normalize) ? (Boolean) getOrDefault(normalize) : null;
    }

    @Override
    protected List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType, false), true));
    }

    @Override
    protected RowModel rowModel() {
        return new Embeddings(getPooling(), getNormalize());
    }

    /** Pooled (and maybe normalised) last hidden states, as Bert.embed computes them. */
    private record Embeddings(String pooling, Boolean normalize) implements RowModel {
        @Override
        public Encoding encode(Bert bert, String text) {
            return bert.tokenizer().encode(text, null,
                    EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()));
        }

        @Override
        public Object[][] run(Bert bert, List<Encoding> batch) {
            PoolingConfig own = bert.defaultPooling();
            Pooling mode = Pooling.valueOf((pooling != null ? pooling : own.mode().name()).toUpperCase(Locale.ROOT));
            boolean unit = normalize != null ? normalize : own.normalize();
            int hidden = bert.model().config().hiddenSize();
            List<int[]> ids = new ArrayList<>(batch.size()), types = new ArrayList<>(batch.size());
            for (Encoding e : batch) {
                ids.add(e.ids());
                types.add(e.typeIds());
            }
            Object[][] out = new Object[batch.size()][];
            bert.model().forward(PackedInput.of(ids, types), (s, rows, pooled) -> {
                float[] vector = mode.pool(rows, batch.get(s).length(), hidden);
                out[s] = new Object[] {unit ? Pooling.normalize(vector) : vector};
            });
            return out;
        }

        @Override
        public int width() {
            return 1;
        }
    }
}
