package bertj.engine;

import bertj.kernels.Activation;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A task head's {@code nn.Linear(hidden, labels)}, applied to rows that are already on the heap.
 * Heads are tiny (a few outputs), so they run the double-accumulating reference kernel
 * ({@link Kernels#REFERENCE}) on the mapped weights, whatever the model's kernels: each logit is rounded
 * once, at no measurable cost.
 */
final class Dense {
    private final Kernels.LinearWeights linear; // weight [out, in], bias [out]
    private final int in;
    private final int out;

    Dense(Weights weights, String prefix, int in, int out) {
        MemorySegment weight = weights.mapped(prefix + ".weight", out, in);
        MemorySegment bias = weights.mapped(prefix + ".bias", out);
        this.linear = Kernels.REFERENCE.prepareLinear(prefix, new MemorySegment[] {weight}, new MemorySegment[] {bias},
                null, in, out, null, null);
        this.in = in;
        this.out = out;
    }

    int outputs() {
        return out;
    }

    /** rows[batch][m][in] -> logits[batch][m][out], one sequence at a time. */
    float[][][] applyPerToken(float[][][] rows) {
        float[][][] logits = new float[rows.length][][];
        for (int b = 0; b < rows.length; b++) logits[b] = apply(rows[b]);
        return logits;
    }

    /** rows[m][in] -> logits[m][out]. */
    float[][] apply(float[][] rows) {
        int m = rows.length;
        float[][] result = new float[m][out];
        if (m == 0) return result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate((long) m * in * Float.BYTES, 64);
            MemorySegment y = arena.allocate((long) m * out * Float.BYTES, 64);
            for (int r = 0; r < m; r++) MemorySegment.copy(rows[r], 0, x, ValueLayout.JAVA_FLOAT, (long) r * in * Float.BYTES, in);
            Kernels.REFERENCE.linear(x, m, linear, y, Activation.NONE);
            for (int r = 0; r < m; r++) MemorySegment.copy(y, ValueLayout.JAVA_FLOAT, (long) r * out * Float.BYTES, result[r], 0, out);
        }
        return result;
    }
}
