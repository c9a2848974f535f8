package bertj.engine;

import bertj.kernels.PackedLinear;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A Linear's packed weights: packed during the load, or read from the packed cache file and moved into the
 * process's own memory ({@link AnonymousMemory}) at their first use, where the kernels stream them faster than
 * from the mapped file. The move copies the bytes: the outputs are the same.
 */
final class PackedWeights {
    private volatile PackedLinear linear;
    // Until the move: the weights in the mapped file, read in place meanwhile if the move cannot be done.
    private PackedLinear mapped;
    private final int[] partRows;
    private final MemorySegment[] biases;
    private final Arena arena;

    private PackedWeights(PackedLinear linear, PackedLinear mapped, int[] partRows, MemorySegment[] biases,
            Arena arena) {
        this.linear = linear;
        this.mapped = mapped;
        this.partRows = partRows;
        this.biases = biases;
        this.arena = arena;
    }

    /** Weights packed in memory: used as they are. */
    static PackedWeights of(PackedLinear packed) {
        return new PackedWeights(packed, null, null, null, null);
    }

    /**
     * Weights in a mapped file, moved into memory of {@code arena}'s lifetime at the first {@link #get()} when
     * {@link AnonymousMemory} can allocate it, else read in place. (Deciding that at the first use keeps the
     * native linker's set-up, tens of milliseconds in a fresh JVM, out of the load.)
     */
    static PackedWeights ofMapped(PackedLinear mapped, int[] partRows, MemorySegment[] biases, Arena arena) {
        return new PackedWeights(null, mapped, partRows, biases, arena);
    }

    PackedLinear get() {
        PackedLinear l = linear;
        return l != null ? l : move();
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
        MemorySegment own = AnonymousMemory.allocate(file.byteSize(), arena);
        if (own == null) {
            linear = mapped; // no memory to move to: keep reading the file
            return linear;
        }
        own.copyFrom(file);
        PackedLinear moved = PackedLinear.ofPacked(own, mapped.k(), partRows, biases);
        AnonymousMemory.release(file);
        mapped = null;
        linear = moved;
        return moved;
    }
}
