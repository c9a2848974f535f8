package bertj.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.engine.Results.Classification;
import bertj.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BertEmbedder and BertClassifier in Spark's local mode on two cores, against the same model run by {@link Bert} in
 * this JVM: the same bits, in input order, whatever the partitioning, a retried task included.
 */
class SparkTransformersTest {
    private static final StructType TEXTS = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.IntegerType, false),
            DataTypes.createStructField("text", DataTypes.StringType, true)));

    private static SparkSession spark;
    private static Path tinyBert, classifierModel;
    private static Bert reference, referenceClassifier;

    @BeforeAll
    static void start() {
        // local[2,2]: two cores, and a failed task is tried twice (local mode's form of spark.task.maxFailures=2)
        spark = SparkSession.builder().master("local[2,2]").appName("bertj-spark-test")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
        tinyBert = Fixtures.model("tiny-bert");
        classifierModel = Fixtures.model("tiny-bert-seqcls");
        reference = Bert.load(tinyBert);
        referenceClassifier = Bert.load(classifierModel);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        if (reference != null) reference.close();
        if (referenceClassifier != null) referenceClassifier.close();
    }

    /** Texts of 1 to 90 words, so that some are cut at the tiny models' 64 tokens; seeded. */
    static List<String> texts(int count) {
        String[] words = ("the a man woman is playing guitar music movie fantastic film enjoy did not capital of France "
                + "Paris hello world transformer model powerful café naïve 東京 über , . ! ? 42 2024 tokenization "
                + "unbelievable cats dogs running quickly").split(" ");
        Random random = new Random(20);
        List<String> texts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = 1 + (random.nextInt(10) == 0 ? random.nextInt(90) : random.nextInt(20));
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < length; w++) text.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            texts.add(text.toString());
        }
        return texts;
    }

    /** The texts as rows (id, text), in order, cut into {@code partitions} contiguous partitions. */
    static Dataset<Row> frame(List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, partitions), TEXTS);
    }

    static float[] vector(Row row, String column) {
        List<Float> values = row.getList(row.fieldIndex(column));
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) v[i] = values.get(i);
        return v;
    }

    static void assertSameVectors(float[][] expected, List<Row> rows, String column) {
        assertEquals(expected.length, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i, rows.get(i).getInt(0), "rows in input order");
            assertArrayEquals(expected[i], vector(rows.get(i), column), "text " + i + ": the same bits as Bert.embed");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void embeddingsAreBertEmbedsBitForBitInInputOrder(int partitions) {
        List<String> texts = texts(2000);
        float[][] expected = reference.embed(texts, Pooling.CLS, false);
        // small forwards, so that each partition runs many length-sorted batches
        List<Row> rows = new BertEmbedder().setModel(tinyBert.toString()).setMaxBatchTokens(512)
                .transform(frame(texts, partitions)).collectAsList();
        assertEquals(List.of("id", "text", "embedding"), Arrays.asList(rows.getFirst().schema().fieldNames()));
        assertSameVectors(expected, rows, "embedding");
    }

    @Test
    void poolingNormalizeAndPrecisionAreBertEmbeds() {
        List<String> texts = texts(300);
        try (Bert bf16 = Bert.load(tinyBert.toString(), bertj.kernels.Precision.BF16)) {
            float[][] expected = bf16.embed(texts, Pooling.MEAN, true);
            List<Row> rows = new BertEmbedder().setModel(tinyBert.toString()).setPooling("mean").setNormalize(true)
                    .setPrecision("bf16").setOutputCol("v").transform(frame(texts, 2)).collectAsList();
            assertSameVectors(expected, rows, "v");
        }
        float[][] max = reference.embed(texts, Pooling.MAX, false);
        assertSameVectors(max, new BertEmbedder().setModel(tinyBert.toString()).setPooling("max")
                .transform(frame(texts, 2)).collectAsList(), "embedding");
    }

    @Test
    void nullAndEmptyTextsGetNullVectorsAndTheirErrorWithoutFailingTheJob() {
        List<String> texts = Arrays.asList("A man is playing a guitar.", null, "", "   ", "Someone is making music.");
        List<Row> rows = new BertEmbedder().setModel(tinyBert.toString()).setErrorCol("error")
                .transform(frame(texts, 2)).collectAsList();
        assertEquals(5, rows.size());
        float[][] expected = reference.embed(List.of(texts.get(0), texts.get(4)), Pooling.CLS, false);
        assertArrayEquals(expected[0], vector(rows.get(0), "embedding"));
        assertArrayEquals(expected[1], vector(rows.get(4), "embedding"));
        assertNull(rows.get(0).getAs("error"));
        assertNull(rows.get(4).getAs("error"));
        for (int i = 1; i <= 3; i++) assertTrue(rows.get(i).isNullAt(rows.get(i).fieldIndex("embedding")), "row " + i);
        assertEquals("the text is null", rows.get(1).getAs("error"));
        assertEquals("the text is empty", rows.get(2).getAs("error"));
        assertEquals("the text is empty", rows.get(3).getAs("error"));
        // without an error column, the same null vectors
        List<Row> quiet = new BertEmbedder().setModel(tinyBert.toString()).transform(frame(texts, 1)).collectAsList();
        assertEquals(List.of("id", "text", "embedding"), Arrays.asList(quiet.getFirst().schema().fieldNames()));
        assertTrue(quiet.get(1).isNullAt(2));
    }

    @Test
    void classifierGivesBertClassifyLabelAndScoreAndAnErrorForTooLongTexts() {
        List<String> texts = texts(200);
        List<Row> rows = new BertClassifier().setModel(classifierModel.toString()).setErrorCol("error")
                .transform(frame(texts, 2)).collectAsList();
        int tooLong = 0;
        for (int i = 0; i < texts.size(); i++) {
            Row row = rows.get(i);
            assertEquals(i, row.getInt(0));
            int tokens = referenceClassifier.tokenizer().encode(texts.get(i)).length();
            if (tokens > referenceClassifier.maxLength()) {
                tooLong++;
                assertTrue(row.isNullAt(row.fieldIndex("label")));
                assertEquals("the text is " + tokens + " tokens, longer than the model's maximum of 64 (setTruncate(true) cuts it)", row.getAs("error"));
                continue;
            }
            Classification c = referenceClassifier.classify(texts.get(i));
            assertEquals(c.label(), row.getAs("label"), "text " + i);
            assertEquals(c.score(), (double) row.getAs("score"), 0.0, "text " + i);
            assertNull(row.getAs("error"));
        }
        assertTrue(tooLong > 0, "some texts are over 64 tokens");
        List<Row> truncated = new BertClassifier().setModel(classifierModel.toString()).setTruncate(true)
                .transform(frame(texts, 2)).collectAsList();
        for (int i = 0; i < texts.size(); i++) {
            Classification c = referenceClassifier.classify(texts.get(i), null, true);
            assertEquals(c.label(), truncated.get(i).getAs("label"));
            assertEquals(c.score(), (double) truncated.get(i).getAs("score"), 0.0);
        }
    }

    @Test
    void savedAndReloadedPipelineModelGivesTheSameOutput(@TempDir Path dir) throws Exception {
        List<String> texts = Arrays.asList("This movie is absolutely fantastic!", null, "I did not enjoy the film at all.", "Hello, world!");
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {
                new BertEmbedder().setModel(classifierModel.toString()).setPooling("mean").setNormalize(true)
                        .setErrorCol("embedding_error").setMaxBatchTokens(100),
                new BertClassifier().setModel(classifierModel.toString()).setPrecision("fp32")}).fit(frame(texts, 2));
        List<Row> before = model.transform(frame(texts, 2)).collectAsList();
        String path = dir.resolve("pipeline").toString();
        model.save(path);
        assertTrue(Files.isDirectory(Path.of(path, "stages")));
        PipelineModel loaded = PipelineModel.load(path);
        BertEmbedder embedder = (BertEmbedder) loaded.stages()[0];
        assertEquals("mean", embedder.getPooling());
        assertEquals(true, embedder.getNormalize());
        assertEquals(100, embedder.getMaxBatchTokens());
        assertEquals("embedding_error", embedder.getErrorCol());
        assertEquals("fp32", ((BertClassifier) loaded.stages()[1]).getPrecision());
        List<Row> after = loaded.transform(frame(texts, 2)).collectAsList();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            Row b = before.get(i), a = after.get(i);
            assertEquals(Arrays.asList(b.schema().fieldNames()), Arrays.asList(a.schema().fieldNames()));
            assertEquals(List.of("id", "text", "embedding", "embedding_error", "label", "score"), Arrays.asList(a.schema().fieldNames()));
            if (b.isNullAt(2)) {
                assertTrue(a.isNullAt(2));
            } else {
                assertArrayEquals(vector(b, "embedding"), vector(a, "embedding"));
            }
            assertEquals((Object) b.getAs("label"), a.getAs("label"));
            assertEquals((Object) b.getAs("score"), a.getAs("score"));
        }
        assertEquals("the text is null", after.get(1).getAs("embedding_error"));
        assertArrayEquals(referenceClassifier.embed(List.of(texts.get(0)), Pooling.MEAN, true)[0], vector(after.get(0), "embedding"));
    }

    /** A test-only fault: the first attempt of partition 1 fails after 300 of its rows have come out of the embedder. */
    static final MapPartitionsFunction<Row, Row> FAIL_FIRST_ATTEMPT = rows -> new java.util.Iterator<>() {
        int seen;

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Row next() {
            TaskContext task = TaskContext.get();
            if (++seen == 300 && task.partitionId() == 1 && task.attemptNumber() == 0) {
                throw new IllegalStateException("test fault: first attempt of partition 1 killed");
            }
            return rows.next();
        }
    };

    @Test
    void aTaskRetriedAfterAFailureGivesTheSameResult() {
        List<String> texts = texts(2000);
        float[][] expected = reference.embed(texts, Pooling.CLS, false);
        Dataset<Row> embedded = new BertEmbedder().setModel(tinyBert.toString()).setMaxBatchTokens(256).transform(frame(texts, 2));
        List<Row> rows = embedded.mapPartitions(FAIL_FIRST_ATTEMPT, Encoders.row(embedded.schema())).collectAsList();
        assertSameVectors(expected, rows, "embedding");
    }

    /**
     * A test-only kill: the first attempt of partition 0 has Spark kill it (interrupting its thread, in the middle of
     * the embedder's windows) after 700 of its rows. A killed task is run again.
     */
    static final MapPartitionsFunction<Row, Row> KILL_FIRST_ATTEMPT = rows -> new java.util.Iterator<>() {
        int seen;

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Row next() {
            TaskContext task = TaskContext.get();
            if (++seen == 700 && task.partitionId() == 0 && task.attemptNumber() == 0) {
                SparkContext.getOrCreate().killTaskAttempt(task.taskAttemptId(), true, "test kill");
            }
            return rows.next();
        }
    };

    @Test
    void aKilledTaskRunsAgainAndGivesTheSameResult() {
        List<String> texts = texts(4000);
        float[][] expected = reference.embed(texts, Pooling.CLS, false);
        Dataset<Row> embedded = new BertEmbedder().setModel(tinyBert.toString()).setMaxBatchTokens(256).transform(frame(texts, 2));
        List<Row> rows = embedded.mapPartitions(KILL_FIRST_ATTEMPT, Encoders.row(embedded.schema())).collectAsList();
        assertSameVectors(expected, rows, "embedding");
    }

    @Test
    void wrongColumnsAndSettingsAreClearErrors() {
        Dataset<Row> frame = frame(List.of("hello"), 1);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new BertEmbedder().setModel(tinyBert.toString()).setInputCol("sentence").transform(frame));
        assertEquals("BertEmbedder: no input column 'sentence' (the columns are [id, text]); see setInputCol", missing.getMessage());
        IllegalArgumentException notText = assertThrows(IllegalArgumentException.class,
                () -> new BertEmbedder().setModel(tinyBert.toString()).setInputCol("id").transform(frame));
        assertEquals("BertEmbedder: input column 'id' is int, not string", notText.getMessage());
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> new BertClassifier().setModel(classifierModel.toString()).setLabelCol("text").transform(frame));
        assertEquals("BertClassifier: output column 'text' is already in the input (the columns are [id, text])", taken.getMessage());
        IllegalArgumentException noModel = assertThrows(IllegalArgumentException.class, () -> new BertEmbedder().transform(frame));
        assertEquals("BertEmbedder: no model; setModel(a model directory or a Hugging Face model name)", noModel.getMessage());
        IllegalArgumentException pooling = assertThrows(IllegalArgumentException.class, () -> new BertEmbedder().setPooling("avg"));
        assertTrue(pooling.getMessage().contains("parameter pooling given invalid value avg"), pooling.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BertEmbedder().setPrecision("fp16"));
        assertThrows(IllegalArgumentException.class, () -> new BertEmbedder().setMaxBatchTokens(0));
    }

    @Test
    void aModelThatCannotLoadFailsTheJobWithItsReason(@TempDir Path dir) {
        Dataset<Row> frame = frame(List.of("hello"), 1);
        SparkException e = assertThrows(SparkException.class,
                () -> new BertEmbedder().setModel(dir.resolve("absent").toString()).transform(frame).collectAsList());
        assertTrue(e.getMessage().contains(dir.resolve("absent").toString()), e.getMessage());
        SparkException noHead = assertThrows(SparkException.class,
                () -> new BertClassifier().setModel(tinyBert.toString()).transform(frame).collectAsList());
        assertTrue(noHead.getMessage().contains("has no sequence classification head"), noHead.getMessage());
    }
}
