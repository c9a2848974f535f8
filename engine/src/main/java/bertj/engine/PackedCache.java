package bertj.engine;

import bertj.kernels.PackedLinear;
import bertj.kernels.ThreadPool;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
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
 * depends on the vector width) and each weight file's size and modification time; a file that does not match
 * them, or whose structure is off (magic, header, sizes), is ignored and written again. Like the weight files
 * themselves, the data is not checksummed: a checksum would read all of it at every load. Files are written to a
 * temporary name and moved into place, so a reader never sees half a file. Failing to read or write the cache
 * only costs time: the weights are packed in memory as without it.
 *
 * <p>File: 8 bytes {@code BERTJPK1}, an 8-byte little-endian header length, the header (JSON: layout, sources,
 * entries with their key, part rows, k, offset and size), then each entry's packed
 * data at a 64-byte aligned offset.
 */
final class PackedCache {
    private static final byte[] MAGIC = "BERTJPK1".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final System.Logger LOG = System.getLogger(PackedCache.class.getName());

    private record Entry(String key, int[] partRows, int k, long offset, long bytes) {}

    private final Path file;
    private final ObjectNode identity;
    private final Map<String, Entry> mappedEntries;
    private final MemorySegment mapped;
    private final List<Entry> built = new ArrayList<>();
    private final List<PackedLinear> builtWeights = new ArrayList<>();

    private PackedCache(Path file, ObjectNode identity, Map<String, Entry> mappedEntries, MemorySegment mapped) {
        this.file = file;
        this.identity = identity;
        this.mappedEntries = mappedEntries;
        this.mapped = mapped;
    }

    /** No cache: every Linear is packed in memory. */
    static PackedCache none() {
        return new PackedCache(null, null, Map.of(), null);
    }

    /**
     * The cache of the model whose weights are {@code weightFiles}, under {@code cacheRoot}: mapped into
     * {@code arena} when a valid file exists, else empty and written by {@link #finish()}.
     */
    static PackedCache open(Path cacheRoot, Path modelDirectory, List<Path> weightFiles, Arena arena) {
        try {
            ObjectNode identity = identity(modelDirectory, weightFiles);
            Path file = cacheRoot.resolve("packed").resolve(hash(modelDirectory.toAbsolutePath().normalize().toString()) + ".bin");
            if (Files.isRegularFile(file)) {
                try {
                    return read(file, identity, arena);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "ignoring packed cache " + file + ": " + e.getMessage());
                }
            }
            return new PackedCache(file, identity, Map.of(), null);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no packed cache for " + modelDirectory + ": " + e.getMessage());
            return none();
        }
    }

    /** The Linear {@code key}: from the mapped file when it has it, else packed now (and kept for {@link #finish}). */
    PackedLinear linear(String key, MemorySegment[] weights, MemorySegment[] biases, int k, Arena arena, ThreadPool pool) {
        int[] partRows = new int[weights.length];
        for (int i = 0; i < weights.length; i++) partRows[i] = (int) (weights[i].byteSize() / (4L * k));
        Entry entry = mappedEntries.get(key);
        if (entry != null && entry.k == k && Arrays.equals(entry.partRows, partRows)) {
            return PackedLinear.ofPacked(mapped.asSlice(entry.offset, entry.bytes), k, partRows, biases);
        }
        PackedLinear packed = PackedLinear.pack(weights, biases, k, arena, pool);
        if (file != null) {
            built.add(new Entry(key, partRows, k, 0, packed.packedData().byteSize()));
            builtWeights.add(packed);
        }
        return packed;
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
            LOG.log(System.Logger.Level.DEBUG, "could not write packed cache " + file + ": " + e.getMessage());
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        } finally {
            built.clear();
            builtWeights.clear();
        }
    }

    private void write(Path temp) throws IOException {
        // The data starts after the header, whose length depends on the offsets' digits: leave room for the
        // longest numbers.
        int slack = 24 * (2 * built.size() + 4);
        long dataStart = align(MAGIC.length + 8 + JSON.writeValueAsBytes(header(0)).length + slack);
        ObjectNode header = header(dataStart);
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        if (MAGIC.length + 8 + headerBytes.length > dataStart) throw new IOException("header outgrew its space");
        long end = header.get("data_end").asLong();
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment out = channel.map(FileChannel.MapMode.READ_WRITE, 0, end, arena);
            MemorySegment.copy(MAGIC, 0, out, ValueLayout.JAVA_BYTE, 0, MAGIC.length);
            out.set(LENGTH, MAGIC.length, headerBytes.length);
            MemorySegment.copy(headerBytes, 0, out, ValueLayout.JAVA_BYTE, MAGIC.length + 8, headerBytes.length);
            long at = dataStart;
            for (PackedLinear p : builtWeights) {
                MemorySegment data = p.packedData();
                MemorySegment.copy(data, 0, out, at, data.byteSize());
                at = align(at + data.byteSize());
            }
            out.force();
        }
    }

    private ObjectNode header(long dataStart) {
        ObjectNode header = identity.deepCopy();
        ArrayNode entries = header.putArray("entries");
        long at = dataStart;
        for (Entry e : built) {
            ObjectNode n = entries.addObject();
            n.put("key", e.key).put("k", e.k).put("offset", at).put("bytes", e.bytes);
            ArrayNode rows = n.putArray("part_rows");
            for (int r : e.partRows) rows.add(r);
            at = align(at + e.bytes);
        }
        header.put("data_end", at);
        return header;
    }

    private static PackedCache read(Path file, ObjectNode identity, Arena arena) throws IOException {
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        if (mapped.byteSize() < MAGIC.length + 8 || mapped.asSlice(0, MAGIC.length).mismatch(MemorySegment.ofArray(MAGIC)) != -1) {
            throw new IOException("not a packed cache file");
        }
        long headerLength = mapped.get(LENGTH, MAGIC.length);
        if (headerLength <= 0 || headerLength > mapped.byteSize() - MAGIC.length - 8 || headerLength > 1 << 24) {
            throw new IOException("bad header length " + headerLength);
        }
        byte[] headerBytes = mapped.asSlice(MAGIC.length + 8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header = JSON.readTree(headerBytes);
        for (String field : List.of("layout", "sources")) {
            if (!identity.get(field).toString().equals(String.valueOf(header.get(field)))) throw new IOException(field + " changed");
        }
        if (header.path("data_end").asLong(-1) != mapped.byteSize()) throw new IOException("size does not match");
        Map<String, Entry> entries = new HashMap<>();
        for (JsonNode n : header.path("entries")) {
            JsonNode rows = n.path("part_rows");
            int[] partRows = new int[rows.size()];
            for (int i = 0; i < partRows.length; i++) partRows[i] = rows.get(i).asInt();
            Entry e = new Entry(n.path("key").asText(), partRows, n.path("k").asInt(), n.path("offset").asLong(-1),
                    n.path("bytes").asLong(-1));
            if (e.offset < MAGIC.length + 8 + headerLength || e.bytes < 0 || e.offset > mapped.byteSize() - e.bytes) {
                throw new IOException("entry " + e.key + " lies outside the file");
            }
            entries.put(e.key, e);
        }
        if (entries.isEmpty()) throw new IOException("no entries");
        return new PackedCache(file, identity, entries, mapped);
    }

    /** What the file must match: the packed layout and each weight file's size and modification time. */
    private static ObjectNode identity(Path modelDirectory, List<Path> weightFiles) throws IOException {
        ObjectNode identity = JSON.createObjectNode();
        identity.put("layout", PackedLinear.layout());
        ArrayNode sources = identity.putArray("sources");
        for (Path f : weightFiles) {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            sources.addObject().put("file", f.toAbsolutePath().normalize().toString()).put("size", a.size())
                    .put("modified_ns", a.lastModifiedTime().toInstant().getEpochSecond() * 1_000_000_000L
                            + a.lastModifiedTime().toInstant().getNano());
        }
        return identity;
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
