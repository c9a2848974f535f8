package bertj.engine;

import bertj.kernels.PackedLinear;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * A Linear's packed weights: packed during the load, or read from the packed cache file and moved into the
 * process's own memory ({@link AnonymousMemory}) at their first use, where the kernels stream them faster than
 * from the mapped file. The move copies the bytes: the outputs are the same.
 */
final class PackedWeights {
    private volatile PackedLinear linear;
    // Until the move: the weights in the mapped file, read in place meanwhile if the move cannot be done.
    private volatile PackedLinear mapped;
    private final int[] partRows;
    private final MemorySegment[] biases;
    private final Supplier<MemorySegment> destination;

    private PackedWeights(PackedLinear linear, PackedLinear mapped, int[] partRows, MemorySegment[] biases,
            Supplier<MemorySegment> destination) {
        this.linear = linear;
        this.mapped = mapped;
        this.partRows = partRows;
        this.biases = biases;
        this.destination = destination;
    }

    /** Weights packed in memory: used as they are. */
    static PackedWeights of(PackedLinear packed) {
        return new PackedWeights(packed, null, null, null, null);
    }

    /**
     * Weights in a mapped file, copied at the first {@link #get()} into {@code destination}'s segment (of their
     * size) and read from there; read in place if it gives null. Deciding at the first use keeps the native
     * linker's set-up, tens of milliseconds in a fresh JVM, out of the load.
     */
    static PackedWeights ofMapped(PackedLinear mapped, int[] partRows, MemorySegment[] biases,
            Supplier<MemorySegment> destination) {
        return new PackedWeights(null, mapped, partRows, biases, destination);
    }

    PackedLinear get() {
        PackedLinear l = linear;
        return l != null ? l : move();
    }

    /**
     * The weights where they are now, without moving them: for the SIMD twins, which copy each slice to the
     * heap anyway (a one-shot command then never sets up the native linker or copies the file).
     */
    PackedLinear current() {
        PackedLinear l = linear;
        if (l != null) return l;
        PackedLinear m = mapped;
        return m != null ? m : linear; // mapped is cleared only after linear is set
    }

    /** Whether the weights are in the process's own memory (packed there, or moved). */
    boolean inOwnMemory() {
        return linear != null && mapped == null;
    }

    private synchronized PackedLinear move() {
        if (linear != null) {
            return linear;
        }
        MemorySegment file = mapped.packedData();
        MemorySegment own = destination.get();
        if (own == null) {
            linear = mapped; // no memory to move to: keep reading the file
            return linear;
        }
        own.copyFrom(file);
        PackedLinear moved = PackedLinear.ofPacked(own, mapped.k(), partRows, biases, mapped.precision());
        AnonymousMemory.release(file);
        linear = moved;
        mapped = null;
        return moved;
    }
}
