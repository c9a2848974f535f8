package bertj.spark;

import bertj.engine.Bert;
import bertj.engine.KernelMode;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import bertj.loader.hub.Hub;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The models of this JVM (an executor's, or the driver's in local mode): each loaded once, by the first task that needs
 * it, shared by every task after it, and closed when the JVM exits.
 */
final class SharedModels {
    /** A model as a task asks for it: its name or path, precision (null: the checkpoint's) and threads. */
    private record Key(String model, String precision, int threads) {
    }

    private record Loaded(Bert bert, ThreadPool pool) {
    }

    private static final Map<Key, Loaded> LOADED = new LinkedHashMap<>();
    private static boolean closeAtExit;

    private SharedModels() {
    }

    /**
     * The model, loaded on first use with a pool of {@code threads} threads (the task's cores, spark.task.cpus):
     * tasks that run at once share the model, each calling it from its own thread.
     */
    static synchronized Bert get(String model, String precision, int threads) {
        Key key = new Key(model, precision, threads);
        Loaded loaded = LOADED.get(key);
        if (loaded != null) return loaded.bert;
        if (!closeAtExit) {
            Runtime.getRuntime().addShutdownHook(new Thread(SharedModels::closeAll, "bertj-close-models"));
            closeAtExit = true;
        }
        ThreadPool pool = new ThreadPool(threads);
        try {
            Bert bert = Bert.load(Hub.locate(model), pool, KernelMode.VECTOR, precision == null ? null : Precision.parse(precision));
            LOADED.put(key, new Loaded(bert, pool));
            return bert;
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
    }

    /** The threads of each model loaded so far, by model and precision ("model precision"): for tests. */
    static synchronized Map<String, Integer> threadsByModel() {
        Map<String, Integer> threads = new LinkedHashMap<>();
        for (Key key : LOADED.keySet()) threads.put(key.model() + " " + key.precision(), key.threads());
        return threads;
    }

    private static synchronized void closeAll() {
        for (Loaded loaded : LOADED.values()) {
            loaded.bert.close(); // waits for calls in progress
            loaded.pool.close();
        }
        LOADED.clear();
    }
}
