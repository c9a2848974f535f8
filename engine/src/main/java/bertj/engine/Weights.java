package bertj.engine;

import bertj.loader.BertCheckpoint;
import bertj.loader.DType;
import bertj.loader.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Reads BERT tensors by their canonical names and prepares them for the kernels. */
final class Weights {
    private final BertCheckpoint checkpoint;
    private final Arena arena;
    private final Kernels kernels;
    private final PackedCache packedCache;

    Weights(BertCheckpoint checkpoint, Arena arena, Kernels kernels, PackedCache packedCache) {
        this.checkpoint = checkpoint;
        this.arena = arena;
        this.kernels = kernels;
        this.packedCache = packedCache;
    }

    /** A tensor as F32, read in place from the mapped file when it already is F32. */
    MemorySegment mapped(String name, long... shape) {
        return checkpoint.require(name, shape).toF32(arena);
    }

    /** A small vector (bias, LayerNorm weight) copied to aligned memory so kernels can load it directly. */
    MemorySegment vector(String name, long size) {
        MemorySegment source = checkpoint.require(name, size).toF32(arena);
        MemorySegment copy = arena.allocate(size * Float.BYTES, 64);
        MemorySegment.copy(source, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, copy, ValueLayout.JAVA_FLOAT, 0, size);
        return copy;
    }

    /** {@code nn.Linear(in, out)}, prepared for the model's matmul kernel. */
    Kernels.LinearWeights linear(String prefix, int in, int out) {
        return fusedLinear(in, out, prefix);
    }

    /**
     * Several Linears over the same input stacked along their outputs (the fused Q, K, V projection). Weights
     * stored as F16 or BF16 are widened to F32 only for the packing, which keeps its own copy: the widened
     * copy is freed at once rather than kept with the model. I8 weights ({@code bertj quantize}) are given as
     * {@code q * scale} with their scales, which int8 packing keeps, so that it stores the same q again.
     */
    Kernels.LinearWeights fusedLinear(int in, int out, String... prefixes) {
        boolean packs = kernels.unprofiled() instanceof Kernels.Simd;
        try (Arena widened = packs ? Arena.ofShared() : null) {
            MemorySegment[] weights = new MemorySegment[prefixes.length];
            MemorySegment[] biases = new MemorySegment[prefixes.length];
            float[][] int8Scales = new float[prefixes.length][];
            for (int i = 0; i < prefixes.length; i++) {
                String name = prefixes[i] + ".weight";
                Tensor weight = checkpoint.require(name, out, in);
                if (weight.dtype() == DType.I8) {
                    int8Scales[i] = checkpoint.int8Scale(name, out);
                    weights[i] = weight.dequantizeInt8(int8Scales[i], packs ? widened : arena);
                } else {
                    weights[i] = weight.toF32(packs ? widened : arena);
                }
                biases[i] = mapped(prefixes[i] + ".bias", out);
            }
            return kernels.prepareLinear(String.join("+", prefixes), weights, biases, int8Scales, in,
                    out * prefixes.length, arena, packedCache);
        }
    }

    boolean has(String name) {
        return checkpoint.optional(name).isPresent();
    }
}
