/**
 * bertj's compute kernels: Linear (register-blocked SIMD GEMM on pre-packed weights), attention, softmax,
 * GELU/tanh/ReLU, LayerNorm, over F32 {@link java.lang.foreign.MemorySegment}s, run on a small
 * {@link bertj.kernels.ThreadPool}.
 *
 * <p>Conventions. Tensors are F32 in native byte order, row-major and contiguous; shapes are given as
 * arguments and checked against the segments' sizes ({@link java.lang.IllegalArgumentException} naming the
 * argument). Segments must be native (off-heap) or byte[]-backed heap segments (the JDK's vector loads do
 * not accept other heap segments), and when a pool has more than one thread they must be accessible from
 * its threads: allocate them in a shared, global or automatic arena. Each vector kernel has a reference twin
 * in {@link bertj.kernels.reference} (plain Java, no Vector API) that defines its meaning; tests compare the
 * two with stated tolerances. The vector
 * width is chosen once by {@link bertj.kernels.VectorSupport} (system property {@code bertj.vectorBits}).
 *
 * <p>The JVM needs {@code --add-modules jdk.incubator.vector}.
 */
package bertj.kernels;
