package bertj.spark;

import bertj.kernels.Precision;
import bertj.loader.DefaultModel;
import bertj.tools.CliCommand;
import bertj.tools.ModelArgument;
import bertj.tools.PrecisionOption;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj spark-embed MODEL IN OUT}: a Spark job that adds an {@code embedding} column (and an {@code error}
 * column) to the rows of IN, JSON Lines or Parquet, and writes them to the new directory OUT. Run by {@code ./bertj}
 * in local mode; on a cluster by spark-submit with this module's jar (see the README's Spark section).
 */
@Command(name = "spark-embed", description = {
        "Sentence embeddings of a JSON Lines or Parquet file (or directory) as a Spark job, written to OUT (a new directory)",
        "with the input's columns, 'embedding' (array<float>) and 'error' (why a row has none: null or empty text).",
        "Local mode unless --master (or spark-submit) says otherwise."})
public final class SparkEmbedCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP
            + " On a cluster: a directory every executor can read, or a Hugging Face model name.")
    String model;

    @Parameters(index = "1", paramLabel = "IN", description = "JSON Lines ({\"text\": ...} per line), or Parquet (*.parquet, or a directory of them).")
    String in;

    @Parameters(index = "2", paramLabel = "OUT", description = "The output directory, which must not exist.")
    String out;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--text-col", paramLabel = "NAME", defaultValue = "text", description = "The column of texts (default: ${DEFAULT-VALUE}).")
    String textCol;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "parquet", description = "parquet or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--pooling", paramLabel = "MODE", description = "cls, mean or max (default: the model's own).")
    String pooling;

    @Option(names = "--normalize", negatable = true, description = "L2-normalise the embeddings, or not (--no-normalize); default: the model's own.")
    Boolean normalize;

    @Option(names = "--precision", paramLabel = "P", converter = PrecisionOption.Parse.class,
            description = "fp32, bf16, int8 or f16 (default: as the checkpoint stores them).")
    Precision precision;

    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "4096", description = "Most tokens per forward (default: ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Override
    public Integer call() throws Exception {
        String outputFormat = format.toLowerCase(Locale.ROOT);
        if (!List.of("parquet", "json").contains(outputFormat)) {
            throw new ParameterException(spec.commandLine(), "--format: expected parquet or json, got '" + format + "'");
        }
        if (pooling != null && !List.of("cls", "mean", "max").contains(pooling)) {
            throw new ParameterException(spec.commandLine(), "--pooling: expected cls, mean or max, got '" + pooling + "'");
        }
        if (maxBatchTokens < 1) throw new ParameterException(spec.commandLine(), "--max-batch-tokens must be at least 1, got " + maxBatchTokens);
        String chosenMaster = master != null ? master : System.getProperty("spark.master", "local[*]");
        boolean local = chosenMaster.startsWith("local");
        if (local) { // before Spark starts; on a cluster, paths are the cluster's file system's, which Spark checks
            if (!in.contains("://") && !Files.exists(Path.of(in))) throw new IllegalArgumentException(in + ": no such file or directory");
            if (!out.contains("://") && Files.exists(Path.of(out))) {
                throw new IllegalArgumentException(out + ": already exists (OUT must be a new directory)");
            }
        }
        String modelForExecutors = modelForExecutors();

        quietSparkLogs();
        long start = System.nanoTime();
        SparkSession spark = session(chosenMaster, local);
        try {
            // Small input files are split too: a few partitions per core, with the rows still in their order.
            spark.conf().set("spark.sql.files.openCostInBytes", "4096");
            spark.conf().set("spark.sql.files.minPartitionNum", String.valueOf(4 * spark.sparkContext().defaultParallelism()));
            Dataset<Row> input = parquet(spark) ? spark.read().parquet(in) : spark.read().json(in);
            BertEmbedder embedder = new BertEmbedder().setModel(modelForExecutors).setInputCol(textCol)
                    .setErrorCol("error").setMaxBatchTokens(maxBatchTokens);
            if (pooling != null) embedder.setPooling(pooling);
            if (normalize != null) embedder.setNormalize(normalize);
            if (precision != null) embedder.setPrecision(precision.label());
            Dataset<Row> embedded = embedder.transform(input);
            embedded.write().mode(SaveMode.ErrorIfExists).format(outputFormat).save(out);
            double seconds = (System.nanoTime() - start) / 1e9;

            // read back with the schema written (JSON leaves out null fields: an all-null column would not be found)
            Row counts = spark.read().schema(embedded.schema()).format(outputFormat).load(out)
                    .selectExpr("count(*)", "count(error)").first();
            long rows = counts.getLong(0), failed = counts.getLong(1);
            err().printf(Locale.ROOT, "bertj: %d rows, %d embedded, written to %s in %.1f s (%.1f rows/s, Spark's start included)%n",
                    rows, rows - failed, out, seconds, rows / seconds);
            if (failed > 0) {
                err().println("bertj: " + failed + " of " + rows + " rows have no embedding: their 'error' column says why");
                return 1;
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    /**
     * The model as the executors get it: 'default' and local directories as absolute paths, a Hugging Face name as it
     * is (each executor fetches it). Checked here first, so that a wrong MODEL fails before the job starts.
     */
    private String modelForExecutors() {
        Path resolved = ModelArgument.resolve(model);
        if (model.equals(DefaultModel.WORD) || Files.isDirectory(Path.of(model))) return resolved.toAbsolutePath().toString();
        return model;
    }

    /** Whether IN is Parquet: a .parquet file, or a directory with one, on Spark's file system. */
    private boolean parquet(SparkSession spark) throws IOException {
        if (in.endsWith(".parquet")) return true;
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(in);
        FileSystem files = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!files.exists(path) || !files.getFileStatus(path).isDirectory()) return false; // Spark reports a missing IN
        for (FileStatus file : files.listStatus(path)) {
            if (file.getPath().getName().endsWith(".parquet")) return true;
        }
        return false;
    }

    private static SparkSession session(String master, boolean local) {
        SparkSession.Builder builder = SparkSession.builder().appName("bertj spark-embed").master(master);
        if (local) {
            // a job on this machine alone: Spark listens on the loopback address only, and shows no web UI
            builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false");
        }
        return builder.getOrCreate();
    }

    /** Spark's warnings and errors only, unless a log configuration is given (spark-submit has its own). */
    private static void quietSparkLogs() {
        URL config = SparkEmbedCommand.class.getResource("spark-embed-log4j2.properties");
        if (System.getProperty("log4j2.configurationFile") == null && config != null) {
            System.setProperty("log4j2.configurationFile", config.toString());
        }
    }
}
