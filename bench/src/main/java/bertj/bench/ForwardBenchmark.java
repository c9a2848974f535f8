package bertj.bench;

import bertj.engine.BertInput;
import bertj.engine.BertModel;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.kernels.ThreadPool;
import bertj.tools.ModelArgument;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One whole forward pass ({@code BertModel.forward}, output copied to {@code float[][][]}) per sequence
 * length, batch and thread count, on random valid token ids.
 *
 * <p>The model: JMH parameter {@code model}, else system property {@code bertj.bench.model}, else the default
 * model (all-MiniLM-L6-v2). For example
 * {@code ./bertj bench jmh ForwardBenchmark -p model=/tmp/bert-base -p seq=128 -p threads=1,2 -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ForwardBenchmark extends BenchmarkDefaults {
    @Param({"8", "32", "128", "512"})
    public int seq;

    @Param({"1"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    /** A model directory or "default"; empty means the system property bertj.bench.model, else "default". */
    @Param({""})
    public String model;

    private ThreadPool pool;
    private BertModel bertj;
    private BertInput input;

    @Setup(Level.Trial)
    public void load() {
        String name = !model.isEmpty() ? model : System.getProperty("bertj.bench.model", "default");
        Path dir = ModelArgument.resolve(name);
        pool = new ThreadPool(threads);
        bertj = BertModel.load(dir, pool);
        input = RandomInputs.forModel(dir).batch(batch, seq, seq);
    }

    @Benchmark
    public BaseModelOutputWithPooling forward() {
        return bertj.forward(input);
    }

    @TearDown(Level.Trial)
    public void close() {
        bertj.close();
        pool.close();
    }
}
