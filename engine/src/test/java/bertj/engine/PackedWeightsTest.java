package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import bertj.kernels.PackedLinear;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packed weights read from a mapped file move into the process's own memory at first use, byte for byte. */
class PackedWeightsTest {
    @TempDir
    Path temp;

    @Test
    void mappedWeightsMoveIntoOwnMemoryAtFirstUseWithTheSameBytes() throws IOException {
        assumeTrue(AnonymousMemory.available(), "Linux with native access only");
        int n = 37, k = 1000; // several 4 KB pages, an odd tail
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weight = arena.allocate(4L * n * k, 64);
            MemorySegment bias = arena.allocate(4L * n, 64);
            for (int i = 0; i < n * k; i++) weight.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 97) * 0.25f - 3);
            for (int i = 0; i < n; i++) bias.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            PackedLinear packed = PackedLinear.pack(weight, bias, n, k, arena);
            Path file = temp.resolve("packed.bin");
            Files.write(file, packed.packedData().toArray(ValueLayout.JAVA_BYTE));
            MemorySegment mapping;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            MemorySegment[] biases = {bias};
            PackedLinear inFile = PackedLinear.ofPacked(mapping, k, new int[] {n}, biases);
            PackedWeights weights = PackedWeights.ofMapped(inFile, new int[] {n}, biases,
                    () -> AnonymousMemory.allocate(mapping.byteSize(), arena));
            assertFalse(weights.inOwnMemory(), "not moved before its first use");

            PackedLinear moved = weights.get();
            assertTrue(weights.inOwnMemory());
            assertSame(moved, weights.get(), "moved once");
            assertNotEquals(mapping.address(), moved.packedData().address(), "no longer the file's pages");
            assertEquals(-1, packed.packedData().mismatch(moved.packedData()), "the same bytes");
            assertEquals(-1, packed.packedData().mismatch(mapping), "the file's pages read back after release");
            assertEquals(n, moved.n());
            assertEquals(k, moved.k());
        }
    }

    @Test
    void weightsPackedInMemoryAreUsedAsTheyAre() {
        try (Arena arena = Arena.ofShared()) {
            PackedLinear packed = PackedLinear.pack(arena.allocate(4L * 3 * 5, 64), null, 3, 5, arena);
            PackedWeights weights = PackedWeights.of(packed);
            assertTrue(weights.inOwnMemory());
            assertSame(packed, weights.get());
        }
    }
}
