package bertj.kernels;

/** Element-wise function applied by {@link Linear#forward} as it stores its output. */
public enum Activation {
    /** Identity. */
    NONE,
    /** {@code x/2 (1 + erf(x / sqrt 2))}: Hugging Face's {@code "gelu"}, the one BERT uses. */
    GELU_ERF,
    /** {@code x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: {@code "gelu_new"}, {@code "gelu_pytorch_tanh"}. */
    GELU_TANH,
    /** {@code max(x, 0)}. */
    RELU,
    /**
     * Hyperbolic tangent. Like every vector loop here it is slow until C2 has compiled it, which takes tens of
     * thousands of vectors: BERT's pooler, one row per sequence, applies {@link bertj.kernels.reference.ReferenceKernels#tanh} instead.
     */
    TANH
}
