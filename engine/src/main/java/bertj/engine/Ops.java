package bertj.engine;

import bertj.kernels.Activation;
import bertj.kernels.Attention;
import bertj.kernels.Linear;
import bertj.kernels.Norms;
import bertj.kernels.PackedLinear;
import bertj.kernels.SimdTwins;
import bertj.kernels.ThreadPool;
import bertj.kernels.reference.ReferenceKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The model's kernels, in the implementation its {@link KernelMode} chose. With the system property
 * {@code bertj.profile=true} every call is timed per kind ({@link #profile()}), for the per-op profile
 * of a forward pass; off by default, when it costs one constant check.
 */
final class Ops {
    private static final boolean PROFILE = Boolean.getBoolean("bertj.profile");
    private static final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> NANOS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Nanoseconds spent per kind of op since the last reset (empty unless bertj.profile is set). */
    static java.util.Map<String, Long> profile() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        NANOS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    static void resetProfile() {
        NANOS.clear();
    }

    static void record(String kind, long startNanos) {
        if (PROFILE) NANOS.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.LongAdder()).add(System.nanoTime() - startNanos);
    }

    static long start() {
        return PROFILE ? System.nanoTime() : 0;
    }

    final ThreadPool pool;
    final KernelMode mode;
    /** VECTOR mode only: run the SIMD kernels' exact scalar twins ({@link SimdTwins}), not the SIMD kernels. */
    private final boolean twins;

    Ops(ThreadPool pool, KernelMode mode) {
        this(pool, mode, false);
    }

    private Ops(ThreadPool pool, KernelMode mode, boolean twins) {
        this.pool = pool;
        this.mode = mode;
        this.twins = twins;
    }

    /** The same kernels' results from their SIMD twins: the same bits, with no wait for the JIT. */
    Ops withSimdTwins() {
        if (mode != KernelMode.VECTOR) throw new IllegalStateException("SIMD twins are of the VECTOR kernels");
        return new Ops(pool, mode, true);
    }

    /** A Linear's weights: packed for the SIMD kernel, or as in the file ([out, in]) for the reference kernel. */
    record LinearWeights(PackedWeights packed, MemorySegment weight, MemorySegment bias, int in, int out) {
    }

    /** {@code key} names the layer in {@code cache} (its weights' prefixes). */
    LinearWeights linear(String key, MemorySegment[] weights, MemorySegment[] biases, int in, int out, Arena arena,
                         PackedCache cache) {
        if (mode == KernelMode.VECTOR) return new LinearWeights(cache.linear(key, weights, biases, in, arena, pool), null, null, in, out);
        if (weights.length == 1) return new LinearWeights(null, weights[0], biases[0], in, out);
        // The reference kernel takes one [out, in] matrix: stack the parts (the fused Q, K, V) once here.
        MemorySegment weight = arena.allocate((long) out * in * Float.BYTES, 64);
        MemorySegment bias = arena.allocate((long) out * Float.BYTES, 64);
        long w = 0, b = 0;
        for (int i = 0; i < weights.length; i++) {
            MemorySegment.copy(weights[i], 0, weight, w, weights[i].byteSize());
            MemorySegment.copy(biases[i], 0, bias, b, biases[i].byteSize());
            w += weights[i].byteSize();
            b += biases[i].byteSize();
        }
        return new LinearWeights(null, weight, bias, in, out);
    }

    /** y[m, out] = act(x[m, in] . W^T + b). */
    void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
        long t = start();
        linearUntimed(x, m, w, y, act);
        if (PROFILE) record("linear " + w.in + "x" + w.out + (act == Activation.NONE ? "" : " +" + act), t);
    }

    /** {@link #linear}, not timed in the profile (for a caller that times a larger op). */
    void linearUntimed(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
        if (w.packed != null && twins) SimdTwins.linear(pool, x, m, w.packed.current(), y, act);
        else if (w.packed != null) Linear.forward(pool, x, m, w.packed.get(), y, act);
        else ReferenceKernels.linear(x, m, w.weight, w.bias, w.out, w.in, y, act);
    }

    void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, MemorySegment mask,
                   MemorySegment out, MemorySegment probs) {
        long t = start();
        if (twins) SimdTwins.attention(pool, qkv, starts, keys, heads, headSize, mask, out, probs);
        else if (mode == KernelMode.VECTOR) Attention.forward(pool, qkv, starts, keys, heads, headSize, mask, out, probs);
        else ReferenceKernels.attention(qkv, starts, keys, heads, headSize, mask, out, probs);
        record("attention", t);
    }

    /** out = LayerNorm(x + residual). */
    void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                      MemorySegment beta, float eps, MemorySegment out) {
        long t = start();
        if (twins) SimdTwins.addLayerNorm(pool, x, residual, rows, cols, gamma, beta, eps, out);
        else if (mode == KernelMode.VECTOR) Norms.addLayerNorm(pool, x, residual, rows, cols, gamma, beta, eps, out);
        else ReferenceKernels.addLayerNorm(x, residual, rows, cols, gamma, beta, eps, out);
        record("add + layer norm", t);
    }
}
