package bertj.engine;

import bertj.kernels.PackedLinear;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The model's Linear weights in the kernels' packed layout, kept in a file under the cache directory so that
 * the next load maps them instead of packing again (packing bert-base takes about 0.3 s; mapping a few ms).
 *
 * <p>One file per model directory ({@code packed/<hash of its path>.bin}). It names the packed layout (which
 * depends on the vector width) and each weight file's size, times and inode ({@link #identity}); a file that
 * does not match them, or whose structure is off (magic, header, sizes), is ignored and written again. Like
 * the weight files themselves, the data is not checksummed: a checksum would read all of it at every load.
 * Files are written to a temporary name and moved into place, so a reader never sees half a file. Failing to
 * read or write the cache only costs time: the weights are packed in memory as without it.
 *
 * <p>File: 8 bytes {@code BERTJPK2}, an 8-byte little-endian header length, the header ({@link DataOutputStream}
 * encoding: the identity — layout, then per weight file its path, size, times and file key — then the entries,
 * each with its key, part rows, k, offset and size, then the file's length), then each entry's packed data at
 * a 64-byte aligned offset. A binary header rather than JSON: parsing JSON in a cold JVM took longer than the
 * rest of the load.
 */
final class PackedCache {
    private static final byte[] MAGIC = "BERTJPK2".getBytes(StandardCharsets.US_ASCII);
    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Created at the first message: looking the logger up costs 20-30 ms of a fresh JVM's first load. */
    private static final class Log {
        static final System.Logger LOGGER = System.getLogger(PackedCache.class.getName());
    }
    private static final int MAX_HEADER_BYTES = 1 << 24;

    /** A Linear in a mapped file. */
    private record Entry(String key, int[] partRows, int k, long offset, long bytes) {}

    /** A Linear packed during this load, to be written by {@link #finish()}. */
    private record Built(String key, int[] partRows, int k, PackedLinear weights) {
        long bytes() {
            return weights.packedData().byteSize();
        }
    }

    private final Path file;
    private final Precision precision;
    private final byte[] identity;
    private final Map<String, Entry> mappedEntries;
    private final MemorySegment mapped;
    private final List<Built> built = new ArrayList<>();
    private MemorySegment ownRegion;
    private boolean ownRegionFailed;

    private PackedCache(Path file, Precision precision, byte[] identity, Map<String, Entry> mappedEntries,
            MemorySegment mapped) {
        this.file = file;
        this.precision = precision;
        this.identity = identity;
        this.mappedEntries = mappedEntries;
        this.mapped = mapped;
    }

    /** No cache: every Linear is packed in memory, in {@code precision}. */
    static PackedCache none(Precision precision) {
        return new PackedCache(null, precision, null, Map.of(), null);
    }

    /**
     * The cache of the model whose weights are {@code weightFiles}, packed in {@code precision}, under {@code
     * cacheRoot}: mapped into {@code arena} when a valid file exists, else empty and written by {@link #finish()}.
     * Each precision has a file of its own ({@code <hash>.bin} for fp32, {@code <hash>-bf16.bin}, ...).
     */
    static PackedCache open(Path cacheRoot, Path modelDirectory, List<Path> weightFiles, Arena arena,
            Precision precision) {
        try {
            byte[] identity = identity(weightFiles, precision);
            String suffix = precision == Precision.FP32 ? "" : "-" + precision.label();
            Path file = cacheRoot.resolve("packed")
                    .resolve(hash(modelDirectory.toAbsolutePath().normalize().toString()) + suffix + ".bin");
            if (Files.isRegularFile(file)) {
                try {
                    return read(file, precision, identity, arena);
                } catch (IOException | RuntimeException e) {
                    Log.LOGGER.log(System.Logger.Level.DEBUG, "ignoring packed cache " + file + ": " + e.getMessage());
                }
            }
            return new PackedCache(file, precision, identity, Map.of(), null);
        } catch (IOException | RuntimeException e) {
            Log.LOGGER.log(System.Logger.Level.DEBUG, "no packed cache for " + modelDirectory + ": " + e.getMessage());
            return none(precision);
        }
    }

    /**
     * Bytes {@code [offset, offset + bytes)} of the mapped file as the kernels read them best: a plain native
     * segment over the same memory (the file stays mapped as long as {@code arena} is open) when this module may
     * use restricted methods, else a slice of the mapping. The Linear kernel reads its weights with
     * {@code FloatVector.fromMemorySegment}, and C2 compiles it 30-40% slower when its weights are a mapped
     * segment and its output a native one (measured on MiniLM, seq 512: 33 ms per forward in the Linears
     * instead of 22) than when both are native; a read-only view is slower too.
     */
    private static MemorySegment kernelView(MemorySegment mapped, long offset, long bytes, Arena arena) {
        if (PackedCache.class.getModule().isNativeAccessEnabled()) {
            return MemorySegment.ofAddress(mapped.address() + offset).reinterpret(bytes, arena, null);
        }
        return mapped.asSlice(offset, bytes);
    }

    /**
     * The Linear {@code key}: from the mapped file when it has it (moved into memory at its first use, see
     * {@link PackedWeights}), else packed now (and kept for {@link #finish}).
     */
    PackedWeights linear(String key, MemorySegment[] weights, MemorySegment[] biases, float[][] int8Scales, int k,
            Arena arena, ThreadPool pool) {
        int[] partRows = new int[weights.length];
        for (int i = 0; i < weights.length; i++) partRows[i] = (int) (weights[i].byteSize() / (4L * k));
        Entry entry = mappedEntries.get(key);
        if (entry != null && entry.k == k && Arrays.equals(entry.partRows, partRows)) {
            PackedLinear inFile = PackedLinear.ofPacked(kernelView(mapped, entry.offset, entry.bytes, arena), k, partRows,
                    biases, precision);
            return PackedWeights.ofMapped(inFile, partRows, biases, () -> ownCopy(arena, entry.offset, entry.bytes));
        }
        PackedLinear packed = PackedLinear.pack(weights, biases, k, arena, pool, precision, int8Scales);
        if (file != null) {
            built.add(new Built(key, partRows, k, packed));
        }
        return PackedWeights.of(packed);
    }

    /**
     * Bytes {@code [offset, offset + bytes)} of one anonymous region as large as the mapped file, allocated at the
     * first call (one region, so that the 2 MB pages round up once, not per Linear); null if it cannot be had.
     */
    private synchronized MemorySegment ownCopy(Arena arena, long offset, long bytes) {
        if (ownRegion == null && !ownRegionFailed) {
            ownRegion = AnonymousMemory.allocate(mapped.byteSize(), arena);
            ownRegionFailed = ownRegion == null;
        }
        return ownRegion == null ? null : ownRegion.asSlice(offset, bytes);
    }

    /** The precision the Linears are packed in. */
    Precision precision() {
        return precision;
    }

    /** Writes the file if some Linear had to be packed; failures are logged and otherwise ignored. */
    void finish() {
        if (file == null || built.isEmpty()) return;
        Path temp = null;
        try {
            Files.createDirectories(file.getParent());
            temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            write(temp);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Log.LOGGER.log(System.Logger.Level.DEBUG, "could not write packed cache " + file + ": " + e.getMessage());
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        } finally {
            built.clear();
        }
    }

    private void write(Path temp) throws IOException {
        // The header's length does not depend on the offsets (fixed-size numbers): measure it, then fill it in.
        long dataStart = align(MAGIC.length + 8 + header(0).length);
        byte[] header = header(dataStart);
        long end = dataStart;
        for (Built b : built) end = align(end + b.bytes());
        // Plain writes, not a mapping: a full disk is then an IOException rather than a fault on a mapped page.
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ByteBuffer start = ByteBuffer.allocate(MAGIC.length + 8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            start.put(MAGIC).putLong(header.length).put(header).flip();
            writeFully(channel, start, 0);
            long at = dataStart;
            for (Built b : built) {
                MemorySegment data = b.weights.packedData();
                for (long done = 0; done < data.byteSize(); done += 1 << 30) {
                    writeFully(channel, data.asSlice(done, Math.min(1 << 30, data.byteSize() - done)).asByteBuffer(), at + done);
                }
                at = align(at + data.byteSize());
            }
            if (channel.size() < end) writeFully(channel, ByteBuffer.allocate((int) (end - channel.size())), channel.size());
            channel.force(true);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) position += channel.write(buffer, position);
    }

    /** Identity, entries at their offsets from {@code dataStart} on, and the file's length. */
    private byte[] header(long dataStart) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(identity);
        out.writeInt(built.size());
        long at = dataStart;
        for (Built b : built) {
            out.writeUTF(b.key);
            out.writeInt(b.partRows.length);
            for (int r : b.partRows) out.writeInt(r);
            out.writeInt(b.k);
            out.writeLong(at);
            out.writeLong(b.bytes());
            at = align(at + b.bytes());
        }
        out.writeLong(at);
        return bytes.toByteArray();
    }

    private static PackedCache read(Path file, Precision precision, byte[] identity, Arena arena) throws IOException {
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        if (mapped.byteSize() < MAGIC.length + 8 || mapped.asSlice(0, MAGIC.length).mismatch(MemorySegment.ofArray(MAGIC)) != -1) {
            throw new IOException("not a packed cache file");
        }
        long headerLength = mapped.get(LENGTH, MAGIC.length);
        if (headerLength < identity.length || headerLength > mapped.byteSize() - MAGIC.length - 8 || headerLength > MAX_HEADER_BYTES) {
            throw new IOException("bad header length " + headerLength);
        }
        byte[] header = mapped.asSlice(MAGIC.length + 8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(header, 0, identity.length, identity, 0, identity.length)) {
            throw new IOException("made for another layout or other weight files");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(header, identity.length, header.length - identity.length));
        int count = in.readInt();
        if (count <= 0 || count > 1 << 20) throw new IOException("bad entry count " + count);
        Map<String, Entry> entries = new HashMap<>();
        for (int i = 0; i < count; i++) {
            String key = in.readUTF();
            int parts = in.readInt();
            if (parts <= 0 || parts > 1 << 10) throw new IOException("bad part count " + parts);
            int[] partRows = new int[parts];
            for (int p = 0; p < parts; p++) partRows[p] = in.readInt();
            Entry e = new Entry(key, partRows, in.readInt(), in.readLong(), in.readLong());
            if (e.offset < MAGIC.length + 8 + headerLength || e.bytes < 0 || e.offset > mapped.byteSize() - e.bytes) {
                throw new IOException("entry " + e.key + " lies outside the file");
            }
            entries.put(e.key, e);
        }
        if (in.readLong() != mapped.byteSize()) throw new IOException("size does not match");
        return new PackedCache(file, precision, identity, entries, mapped);
    }

    /**
     * What the file must match: the packed layout and, per weight file, its path, size, modification time, file
     * key (device and inode on Unix) and change time. Copies that keep the size and the modification time
     * (`cp -p`, `rsync -a`, archives: another fine-tune of the same shape) still get a new change time, which no
     * user call can set back; a rename or chmod costs one repack.
     */
    private static byte[] identity(List<Path> weightFiles, Precision precision) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(PackedLinear.layout(precision));
        out.writeInt(weightFiles.size());
        for (Path f : weightFiles) {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            out.writeUTF(f.toAbsolutePath().normalize().toString());
            out.writeLong(a.size());
            out.writeLong(a.lastModifiedTime().toInstant().getEpochSecond());
            out.writeInt(a.lastModifiedTime().toInstant().getNano());
            out.writeUTF(String.valueOf(a.fileKey()));
            FileTime changed = changeTime(f, a);
            out.writeLong(changed.toInstant().getEpochSecond());
            out.writeInt(changed.toInstant().getNano());
        }
        return bytes.toByteArray();
    }

    /** The inode's change time where the file system has one (Unix), else the creation time. */
    private static FileTime changeTime(Path f, BasicFileAttributes a) throws IOException {
        try {
            return (FileTime) Files.getAttribute(f, "unix:ctime");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return a.creationTime();
        }
    }

    private static long align(long offset) {
        return (offset + 63) & ~63L;
    }

    /** FNV-1a, 64 bits, of the UTF-8 bytes: a file name, not a security measure (the header says whose it is). */
    static String hash(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return HexFormat.of().toHexDigits(h);
    }
}
