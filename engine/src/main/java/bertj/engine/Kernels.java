package bertj.engine;

import bertj.kernels.Activation;
import bertj.kernels.Attention;
import bertj.kernels.Linear;
import bertj.kernels.Norms;
import bertj.kernels.Precision;
import bertj.kernels.SimdTwins;
import bertj.kernels.ThreadPool;
import bertj.kernels.reference.ReferenceKernels;
import bertj.kernels.reference.WeightRounding;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernels a model runs: every kernel call of the engine goes through one of these, picked at load from the
 * model's {@link KernelMode} ({@link #of}). {@link Simd} runs the SIMD kernels of {@code bertj.kernels}, {@link Twins}
 * their exact float twins ({@link SimdTwins}: the same bits, no wait for the JIT), {@link Reference} the plain
 * reference kernels of {@code bertj.kernels.reference} (double accumulation). With {@code bertj.profile=true} the
 * choice is wrapped in {@link Profiled}, which times every call per kind ({@link Profile}).
 */
interface Kernels {
    /** A Linear's weights: packed for the SIMD kernel, or as in the file ([out, in]) for the reference kernel. */
    record LinearWeights(PackedWeights packed, MemorySegment weight, MemorySegment bias, int in, int out) {
    }

    /** The implementation of {@code mode} on {@code pool}, wrapped in {@link Profiled} when profiling is on. */
    static Kernels of(KernelMode mode, ThreadPool pool) {
        Kernels kernels = mode == KernelMode.VECTOR ? new Simd(pool) : REFERENCE;
        return Profile.ENABLED ? new Profiled(kernels) : kernels;
    }

    /** The reference kernels (stateless, single-threaded). */
    Kernels REFERENCE = new Reference();

    /**
     * Prepares {@code nn.Linear(in, out)} (or several stacked along their outputs, as the fused Q, K, V) for
     * {@link #linear}; {@code key} names the layer in {@code cache} (its weights' prefixes).
     *
     * @param weights    each {@code [out_i, in]}, as in the file (int8 ones already times their scales)
     * @param biases     each {@code [out_i]}
     * @param int8Scales null, or per weight the scales it was stored with in int8 (or null), which int8 packing
     *                   then keeps instead of computing its own
     */
    LinearWeights prepareLinear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int in, int out,
                                Arena arena, PackedCache cache);

    /** y[m, out] = act(x[m, in] . W^T + b). */
    void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act);

    /**
     * Self-attention of the sequences given by {@code starts} and {@code keys}, masking the keys where
     * {@code attentionMask} (null for none) is 0 (see {@link Attention#forward}).
     */
    void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, int[] attentionMask,
                   MemorySegment out, MemorySegment probs);

    /** out = LayerNorm(x + residual). */
    void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                      MemorySegment beta, float eps, MemorySegment out);

    /**
     * x = tanh(x), for the pooler: in every implementation the reference tanh (double, rounded once), not the
     * SIMD one. One row per sequence is too little work for C2 to compile the vector loop soon, and outside C2
     * every vector is a heap object: in about half the JVMs it was still so after 6 s of forwards, 1.3-1.9 ms
     * per forward for bert-base's 768 floats, 8% of a forward at 8 tokens. The scalar loop takes microseconds.
     */
    default void poolerTanh(MemorySegment x, long n) {
        ReferenceKernels.tanh(x, n);
    }

    /** The same kernels' exact float twins (same bits, no JIT warm-up), or these kernels when they have none. */
    default Kernels simdTwins() {
        return this;
    }

    /** These kernels without the profiling wrapper (for a caller that times a larger op itself). */
    default Kernels unprofiled() {
        return this;
    }

    /** The SIMD kernels on packed weights, multi-threaded on the pool. */
    final class Simd implements Kernels {
        final ThreadPool pool;

        Simd(ThreadPool pool) {
            this.pool = pool;
        }

        @Override
        public LinearWeights prepareLinear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int in,
                                           int out, Arena arena, PackedCache cache) {
            return new LinearWeights(cache.linear(key, weights, biases, int8Scales, in, arena, pool), null, null, in, out);
        }

        @Override
        public void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
            if (w.packed != null) Linear.forward(pool, x, m, w.packed.get(), y, act);
            else REFERENCE.linear(x, m, w, y, act);
        }

        @Override
        public void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, int[] attentionMask,
                              MemorySegment out, MemorySegment probs) {
            Attention.forward(pool, qkv, starts, keys, heads, headSize, attentionMask, out, probs);
        }

        @Override
        public void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                                 MemorySegment beta, float eps, MemorySegment out) {
            Norms.addLayerNorm(pool, x, residual, rows, cols, gamma, beta, eps, out);
        }

        @Override
        public Kernels simdTwins() {
            return new Twins(this);
        }
    }

    /** {@link Simd}'s kernels computed by their float twins ({@link SimdTwins}): the same bits. */
    final class Twins implements Kernels {
        private final Simd simd;

        Twins(Simd simd) {
            this.simd = simd;
        }

        @Override
        public LinearWeights prepareLinear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int in,
                                           int out, Arena arena, PackedCache cache) {
            return simd.prepareLinear(key, weights, biases, int8Scales, in, out, arena, cache);
        }

        @Override
        public void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
            if (w.packed != null) SimdTwins.linear(simd.pool, x, m, w.packed.current(), y, act);
            else REFERENCE.linear(x, m, w, y, act);
        }

        @Override
        public void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, int[] attentionMask,
                              MemorySegment out, MemorySegment probs) {
            SimdTwins.attention(simd.pool, qkv, starts, keys, heads, headSize, attentionMask, out, probs);
        }

        @Override
        public void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                                 MemorySegment beta, float eps, MemorySegment out) {
            SimdTwins.addLayerNorm(simd.pool, x, residual, rows, cols, gamma, beta, eps, out);
        }
    }

    /** The reference kernels ({@link ReferenceKernels}) on the weights as in the file. */
    final class Reference implements Kernels {
        private Reference() {
        }

        /**
         * The weights as in the file, stacked into one matrix when there are several; in a reduced precision,
         * rounded as the packed weights are ({@link WeightRounding}), so that this stays the reference of the
         * SIMD kernels at that precision.
         */
        @Override
        public LinearWeights prepareLinear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int in,
                                           int out, Arena arena, PackedCache cache) {
            if (cache != null && cache.precision() != Precision.FP32) {
                MemorySegment[] rounded = new MemorySegment[weights.length];
                for (int i = 0; i < weights.length; i++) rounded[i] = rounded(weights[i], in, cache.precision(), arena);
                weights = rounded;
            }
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

        /** {@code [rows, in]} F32 after a round trip through {@code precision}, int8 with one scale per row. */
        private static MemorySegment rounded(MemorySegment weight, int in, Precision precision, Arena arena) {
            float[] values = weight.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            for (int r = 0; r < values.length / in; r++) {
                float scale = WeightRounding.int8Scale(values, r * in, (r + 1) * in);
                for (int c = r * in; c < (r + 1) * in; c++) values[c] = WeightRounding.roundTrip(precision, values[c], scale);
            }
            MemorySegment copy = arena.allocate((long) values.length * Float.BYTES, 64);
            MemorySegment.copy(values, 0, copy, ValueLayout.JAVA_FLOAT, 0, values.length);
            return copy;
        }

        @Override
        public void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
            ReferenceKernels.linear(x, m, w.weight, w.bias, w.out, w.in, y, act);
        }

        @Override
        public void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, int[] attentionMask,
                              MemorySegment out, MemorySegment probs) {
            ReferenceKernels.attention(qkv, starts, keys, heads, headSize, attentionMask, out, probs);
        }

        @Override
        public void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                                 MemorySegment beta, float eps, MemorySegment out) {
            ReferenceKernels.addLayerNorm(x, residual, rows, cols, gamma, beta, eps, out);
        }
    }

    /** Times every call of the wrapped kernels per kind of op, into {@link Profile}. */
    final class Profiled implements Kernels {
        private final Kernels kernels;

        Profiled(Kernels kernels) {
            this.kernels = kernels;
        }

        @Override
        public LinearWeights prepareLinear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int in,
                                           int out, Arena arena, PackedCache cache) {
            return kernels.prepareLinear(key, weights, biases, int8Scales, in, out, arena, cache);
        }

        @Override
        public void linear(MemorySegment x, int m, LinearWeights w, MemorySegment y, Activation act) {
            long t = Profile.start();
            kernels.linear(x, m, w, y, act);
            Profile.record("linear " + w.in + "x" + w.out + (act == Activation.NONE ? "" : " +" + act), t);
        }

        @Override
        public void attention(MemorySegment qkv, int[] starts, int[] keys, int heads, int headSize, int[] attentionMask,
                              MemorySegment out, MemorySegment probs) {
            long t = Profile.start();
            kernels.attention(qkv, starts, keys, heads, headSize, attentionMask, out, probs);
            Profile.record("attention", t);
        }

        @Override
        public void addLayerNorm(MemorySegment x, MemorySegment residual, int rows, int cols, MemorySegment gamma,
                                 MemorySegment beta, float eps, MemorySegment out) {
            long t = Profile.start();
            kernels.addLayerNorm(x, residual, rows, cols, gamma, beta, eps, out);
            Profile.record("add + layer norm", t);
        }

        @Override
        public void poolerTanh(MemorySegment x, long n) {
            kernels.poolerTanh(x, n);
        }

        @Override
        public Kernels simdTwins() {
            Kernels twins = kernels.simdTwins();
            return twins == kernels ? this : new Profiled(twins);
        }

        @Override
        public Kernels unprofiled() {
            return kernels;
        }
    }
}
