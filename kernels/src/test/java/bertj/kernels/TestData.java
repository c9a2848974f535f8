package bertj.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Native F32 test tensors filled from a seeded generator. */
final class TestData {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** float32's minimum (most negative finite), as Hugging Face's additive mask uses. */
    static final float MASKED = -Float.MAX_VALUE;

    private TestData() {}

    static MemorySegment uniform(Arena arena, Random random, long count, float lo, float hi) {
        MemorySegment s = arena.allocate(4 * Math.max(count, 1), 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(F, i, lo + (hi - lo) * random.nextFloat());
        }
        return s;
    }

    static MemorySegment of(Arena arena, float... values) {
        MemorySegment s = arena.allocate(4L * Math.max(values.length, 1), 64);
        MemorySegment.copy(values, 0, s, F, 0, values.length);
        return s;
    }

    static MemorySegment zeros(Arena arena, long count) {
        return arena.allocate(4 * Math.max(count, 1), 64);
    }

    static MemorySegment copy(Arena arena, MemorySegment source) {
        MemorySegment s = arena.allocate(source.byteSize(), 64);
        s.copyFrom(source);
        return s;
    }

    static float get(MemorySegment s, long index) {
        return s.getAtIndex(F, index);
    }

    /** A copy of {@code source} starting 4 bytes into a fresh segment, read-only: like a tensor in a mapped file. */
    static MemorySegment misalignedReadOnly(Arena arena, MemorySegment source) {
        MemorySegment s = arena.allocate(source.byteSize() + 4, 64).asSlice(4, source.byteSize());
        s.copyFrom(source);
        return s.asReadOnly();
    }
}
