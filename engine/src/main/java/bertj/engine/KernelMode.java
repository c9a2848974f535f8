package bertj.engine;

/**
 * Which implementation of the kernels a model runs, chosen at load (the engine's {@code Kernels}).
 */
public enum KernelMode {
    /** The SIMD kernels, with float accumulation: the fast path, and the default. */
    VECTOR,
    /**
     * The plain reference kernels of {@code bertj.kernels.reference}, accumulating in double and rounding each
     * result once: many times slower, and about twice as close to a float64 reference, since float
     * accumulation error is what sharp attention amplifies most. For checking results, not for serving.
     */
    SCALAR
}
