package bertj.spark;

import bertj.engine.Bert;
import bertj.engine.PackedInput;
import bertj.engine.Results.Classification;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Sequence classification (a {@code BertForSequenceClassification} checkpoint) as a Spark ML transformer: the column
 * of texts in, a label column (string) and a score column (double) out, as {@link Bert#classify(String, String, boolean)}
 * gives them. A text longer than the model takes is that row's error, unless {@link #setTruncate truncated}.
 */
public final class BertClassifier extends BertTransformer<BertClassifier> implements DefaultParamsWritable {
    private final Param<String> labelCol;
    private final Param<String> scoreCol;
    private final BooleanParam truncate;

    public BertClassifier() {
        this(Identifiable.randomUID("BertClassifier"));
    }

    public BertClassifier(String uid) {
        super(uid);
        labelCol = new Param<>(this, "labelCol", "the predicted label's column, string");
        scoreCol = new Param<>(this, "scoreCol", "the label's score column, double (softmax; sigmoid for multi-label or one label; raw for regression)");
        truncate = new BooleanParam(this, "truncate", "cut texts longer than the model takes, instead of giving them an error");
        setDefault(labelCol, "label");
        setDefault(scoreCol, "score");
        setDefault(truncate, false);
    }

    /** Reads a saved BertClassifier (and lets a saved PipelineModel load it). */
    public static MLReader<BertClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static BertClassifier load(String path) {
        return read().load(path);
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> scoreCol() {
        return scoreCol;
    }

    public BooleanParam truncate() {
        return truncate;
    }

    public BertClassifier setLabelCol(String value) {
        set(labelCol, value);
        return this;
    }

    public BertClassifier setScoreCol(String value) {
        set(scoreCol, value);
        return this;
    }

    public BertClassifier setTruncate(boolean value) {
        set(truncate, value);
        return this;
    }

    public String getLabelCol() {
        return getOrDefault(labelCol);
    }

    public String getScoreCol() {
        return getOrDefault(scoreCol);
    }

    public boolean getTruncate() {
        return (Boolean) getOrDefault(truncate);
    }

    @Override
    protected List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(getLabelCol(), DataTypes.StringType, true),
                DataTypes.createStructField(getScoreCol(), DataTypes.DoubleType, true));
    }

    @Override
    protected RowModel rowModel() {
        return new Classifications(getTruncate());
    }

    /** The classification head's label and score. */
    private record Classifications(boolean truncate) implements RowModel {
        @Override
        public Encoding encode(Bert bert, String text) {
            if (truncate) {
                return bert.tokenizer().encode(text, null,
                        EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, bert.maxLength()));
            }
            Encoding encoding = bert.tokenizer().encode(text, null, EncodeOptions.DEFAULT);
            if (encoding.length() > bert.maxLength()) {
                throw new IllegalArgumentException("the text is " + encoding.length() + " tokens, longer than the model's maximum of "
                        + bert.maxLength() + " (setTruncate(true) cuts it)");
            }
            return encoding;
        }

        @Override
        public Object[][] run(Bert bert, List<Encoding> batch) {
            List<int[]> ids = new ArrayList<>(batch.size()), types = new ArrayList<>(batch.size());
            for (Encoding e : batch) {
                ids.add(e.ids());
                types.add(e.typeIds());
            }
            float[][] logits = bert.sequenceLogits(PackedInput.of(ids, types));
            Object[][] out = new Object[batch.size()][];
            for (int s = 0; s < logits.length; s++) {
                Classification c = bert.classification(logits[s]);
                out[s] = new Object[] {c.label(), c.score()};
            }
            return out;
        }

        @Override
        public int width() {
            return 2;
        }
    }
}
