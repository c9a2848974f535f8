package bertj.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link BertEmbedder} and {@link BertClassifier} share: the model, the text column, the optional error column,
 * the precision and the batch size, and the run over each partition ({@link PartitionRunner}) on the executors.
 *
 * @param <T> the concrete transformer, which the setters return
 */
public abstract class BertTransformer<T extends BertTransformer<T>> extends Transformer {
    private final String uid;
    private final Param<String> model;
    private final Param<String> inputCol;
    private final Param<String> errorCol;
    private final Param<String> precision;
    private final IntParam maxBatchTokens;

    protected BertTransformer(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "a model directory (on a path every executor can read) or a Hugging Face model name (org/name[@revision])");
        inputCol = new Param<>(this, "inputCol", "the column of texts (string)");
        errorCol = new Param<>(this, "errorCol", "if set, a string column with why a row has no output (null or empty text, a text the tokenizer refuses), else null");
        precision = new Param<>(this, "precision", "the Linear weights' precision: fp32, bf16, int8 or f16 (unset: as the checkpoint stores them)",
                ParamValidators.inArray(List.of("fp32", "bf16", "int8")));
        maxBatchTokens = new IntParam(this, "maxBatchTokens", "most tokens per forward; the texts of a partition are sorted by length and packed without padding",
                ParamValidators.gtEq(1));
        setDefault(inputCol, "text");
        setDefault(maxBatchTokens, 4096);
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public Param<String> precision() {
        return precision;
    }

    public IntParam maxBatchTokens() {
        return maxBatchTokens;
    }

    /** A model directory on a path every executor can read, or a Hugging Face model name (org/name[@revision]). */
    public T setModel(String value) {
        set(model, value);
        return self();
    }

    public T setInputCol(String value) {
        set(inputCol, value);
        return self();
    }

    /** Adds a string column that says why a row has no output (null when it has one). */
    public T setErrorCol(String value) {
        set(errorCol, value);
        return self();
    }

    /** fp32, bf16, int8 or f16. */
    public T setPrecision(String value) {
        set(precision, value);
        return self();
    }

    public T setMaxBatchTokens(int value) {
        set(maxBatchTokens, value);
        return self();
    }

    public String getModel() {
        return getOrDefault(model);
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    /** The error column's name, or null for none. */
    public String getErrorCol() {
        return isDefined(errorCol) ? getOrDefault(errorCol) : null;
    }

    /** The precision asked for, or null for the checkpoint's own. */
    public String getPrecision() {
        return isDefined(precision) ? getOrDefault(precision) : null;
    }

    public int getMaxBatchTokens() {
        return (Integer) getOrDefault(maxBatchTokens);
    }

    /** The columns this transformer adds, before the error column. */
    protected abstract List<StructField> outputFields();

    /** The work done on the executors for a batch of texts. */
    protected abstract RowModel rowModel();

    @Override
    public StructType transformSchema(StructType schema) {
        String name = getClass().getSimpleName();
        String input = getInputCol();
        List<String> columns = Arrays.asList(schema.fieldNames());
        if (!columns.contains(input)) {
            throw new IllegalArgumentException(name + ": no input column '" + input + "' (the columns are " + columns + "); see setInputCol");
        }
        StructField text = schema.apply(input);
        if (!text.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(name + ": input column '" + input + "' is " + text.dataType().simpleString() + ", not string");
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        List<StructField> added = new ArrayList<>(outputFields());
        if (getErrorCol() != null) added.add(DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
        for (StructField field : added) {
            if (columns.contains(field.name())) {
                throw new IllegalArgumentException(name + ": output column '" + field.name() + "' is already in the input (the columns are " + columns + ")");
            }
            fields.add(field);
        }
        return DataTypes.createStructType(fields);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        if (!isDefined(model) || getModel().isBlank()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no model; setModel(a model directory or a Hugging Face model name)");
        }
        StructType schema = transformSchema(dataset.schema());
        PartitionRunner.Settings settings = new PartitionRunner.Settings(getModel(), getPrecision(), getMaxBatchTokens(),
                dataset.schema().fieldIndex(getInputCol()), getErrorCol() != null, rowModel());
        // a lambda of the settings alone: the transformer itself is not shipped to the executors
        MapPartitionsFunction<Row, Row> run = rows -> new PartitionRunner(settings, rows);
        return dataset.toDF().mapPartitions(run, Encoders.row(schema));
    }

    @Override
    public T copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
