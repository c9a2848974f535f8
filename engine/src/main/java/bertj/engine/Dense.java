package bertj.engine;

import bertj.kernels.Activation;
import bertj.kernels.Linear;
import bertj.kernels.PackedLinear;
import bertj.kernels.ThreadPool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A task head's {@code nn.Linear(hidden, labels)}, applied to rows that are already on the heap. */
final class Dense {
    private final PackedLinear linear;

    Dense(Weights weights, String prefix, int in, int out) {
        this.linear = weights.linear(prefix, in, out);
    }

    int outputs() {
        return linear.n();
    }

    /** rows[m][in] -> logits[m][out]. */
    float[][] apply(ThreadPool pool, float[][] rows) {
        int m = rows.length, in = linear.k(), out = linear.n();
        float[][] result = new float[m][out];
        if (m == 0) return result;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate((long) m * in * Float.BYTES, 64);
            MemorySegment y = arena.allocate((long) m * out * Float.BYTES, 64);
            for (int r = 0; r < m; r++) MemorySegment.copy(rows[r], 0, x, ValueLayout.JAVA_FLOAT, (long) r * in * Float.BYTES, in);
            Linear.forward(pool, x, m, linear, y, Activation.NONE);
            for (int r = 0; r < m; r++) MemorySegment.copy(y, ValueLayout.JAVA_FLOAT, (long) r * out * Float.BYTES, result[r], 0, out);
        }
        return result;
    }
}
