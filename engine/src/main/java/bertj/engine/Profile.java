package bertj.engine;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The per-op profile of forward passes, with the system property {@code bertj.profile=true}: nanoseconds per
 * kind of op, summed over calls. The kernels are timed by {@link Kernels.Profiled}; the model times its other
 * steps (embeddings, pooler, copying out) with {@link #start} and {@link #record}, which cost one constant check
 * when profiling is off (the default).
 */
final class Profile {
    static final boolean ENABLED = Boolean.getBoolean("bertj.profile");
    private static final ConcurrentHashMap<String, LongAdder> NANOS = new ConcurrentHashMap<>();

    private Profile() {
    }

    /** Nanoseconds spent per kind of op since the last reset (empty unless bertj.profile is set). */
    static Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        NANOS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    static void reset() {
        NANOS.clear();
    }

    static long start() {
        return ENABLED ? System.nanoTime() : 0;
    }

    static void record(String kind, long startNanos) {
        if (ENABLED) NANOS.computeIfAbsent(kind, k -> new LongAdder()).add(System.nanoTime() - startNanos);
    }
}
