package bertj.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import bertj.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** With spark.task.cpus=2 the executor's model runs each task's forwards on two threads, with the same bits. */
class SparkTaskCpusTest {
    @Test
    void theModelGetsTheTasksCoresAndGivesTheSameBits() {
        Path model = Fixtures.model("tiny-bert-tokcls"); // a model no other test loads through Spark
        List<String> texts = SparkTransformersTest.texts(400);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("bertj-task-cpus-test")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.task.cpus", "2").getOrCreate();
        try (Bert reference = Bert.load(model)) {
            List<Row> rows = new BertEmbedder().setModel(model.toString()).setMaxBatchTokens(300)
                    .transform(spark.createDataset(texts, Encoders.STRING()).toDF("text")).collectAsList();
            float[][] expected = reference.embed(texts, Pooling.CLS, false);
            List<float[]> got = new ArrayList<>();
            for (Row row : rows) got.add(SparkTransformersTest.vector(row, "embedding"));
            for (int i = 0; i < texts.size(); i++) assertArrayEquals(expected[i], got.get(i), "text " + i);
            assertEquals(2, SharedModels.threadsByModel().get(model + " null"));
        } finally {
            spark.stop();
        }
    }
}
