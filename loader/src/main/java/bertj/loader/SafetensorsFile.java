package bertj.loader;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file, memory-mapped read-only. Its tensors are zero-copy slices of the mapping.
 *
 * <p>Layout (https://github.com/huggingface/safetensors):
 * <pre>
 *   [8 bytes: N, little-endian u64][N bytes: UTF-8 JSON header][data section]
 *   header = {"__metadata__": {str: str}?, NAME: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 * </pre>
 * Offsets are relative to the start of the data section. Everything is validated in {@link #open} before any
 * tensor is handed out, so a tensor's bytes are always inside the file and never shared with another tensor.
 *
 * <p>The mapping lives in a shared {@link Arena} owned by this object: tensors may be read from any thread
 * until {@link #close()}, after which reading them throws {@link IllegalStateException}.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted; the same bound as the safetensors crate's MAX_HEADER_SIZE. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final Arena arena;
    private final long fileSize;
    private final Map<String, String> metadata;
    private final Map<String, Tensor> tensors;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, long fileSize, Map<String, String> metadata,
                            Map<String, Tensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.fileSize = fileSize;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws ModelFormatException if the file is missing, unreadable, or not a valid safetensors file; the
     *         message names the file, the tensor and the problem
     */
    public static SafetensorsFile open(Path path) {
        if (!Files.exists(path)) throw new ModelFormatException(path + ": file not found");
        if (!Files.isRegularFile(path)) throw new ModelFormatException(path + ": not a regular file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapping;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = channel.size();
                if (size < Long.BYTES) {
                    throw new ModelFormatException(path + ": file is " + size
                            + " bytes, too short for the 8-byte header length of a safetensors file");
                }
                mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            return new Parser(path, mapping).parse(arena);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ModelFormatException(path + ": file not found", e);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The string-to-string {@code __metadata__} map (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        ensureOpen();
        return List.copyOf(tensors.keySet());
    }

    /** Tensors in header order. */
    public List<Tensor> tensors() {
        ensureOpen();
        return List.copyOf(tensors.values());
    }

    public boolean contains(String name) {
        ensureOpen();
        return tensors.containsKey(name);
    }

    public Optional<Tensor> find(String name) {
        ensureOpen();
        return Optional.ofNullable(tensors.get(name));
    }

    /** @throws ModelFormatException naming the tensor and the file when there is no such tensor */
    public Tensor tensor(String name) {
        ensureOpen();
        Tensor t = tensors.get(name);
        if (t == null) throw new ModelFormatException(path + ": no tensor named \"" + name + "\"");
        return t;
    }

    /** Unmaps the file. Tensors obtained from it become unusable. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(path + " is closed");
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    /** Header validation; every failure names the file and, where there is one, the tensor. */
    private static final class Parser {
        private final Path path;
        private final MemorySegment mapping;

        Parser(Path path, MemorySegment mapping) {
            this.path = path;
            this.mapping = mapping;
        }

        /** A tensor entry after validation, before slicing. */
        private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

        SafetensorsFile parse(Arena arena) {
            long fileSize = mapping.byteSize();
            long headerLength = mapping.get(Tensor.I64_LE, 0);
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw fail("header length field says " + Long.toUnsignedString(headerLength)
                        + " bytes, more than the " + MAX_HEADER_BYTES + "-byte limit: not a safetensors file?");
            }
            if (headerLength > fileSize - Long.BYTES) {
                throw fail("header length field says " + headerLength + " bytes but only "
                        + (fileSize - Long.BYTES) + " follow it: file truncated?");
            }
            long dataStart = Long.BYTES + headerLength;
            long dataSize = fileSize - dataStart;

            byte[] headerBytes = mapping.asSlice(Long.BYTES, headerLength).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header = Json.parse(headerBytes, path + ": header");
            if (header == null || header.isMissingNode()) throw fail("header is empty");
            if (!header.isObject()) throw fail("header must be a JSON object, found " + Json.kind(header));

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, JsonNode> field : header.properties()) {
                if (field.getKey().equals(METADATA_KEY)) {
                    readMetadata(field.getValue(), metadata);
                } else {
                    entries.add(readEntry(field.getKey(), field.getValue(), dataSize));
                }
            }
            checkNoOverlap(entries);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : entries) {
                MemorySegment bytes = mapping.asSlice(dataStart + e.begin, e.end - e.begin);
                tensors.put(e.name, Tensor.of(e.name, e.dtype, e.shape, bytes));
            }
            return new SafetensorsFile(path, arena, fileSize, metadata, tensors);
        }

        private void readMetadata(JsonNode node, Map<String, String> out) {
            if (node.isNull()) return;
            if (!node.isObject()) {
                throw fail("\"" + METADATA_KEY + "\" must be an object of strings, found " + Json.kind(node));
            }
            for (Map.Entry<String, JsonNode> kv : node.properties()) {
                if (!kv.getValue().isTextual()) {
                    throw fail("\"" + METADATA_KEY + "\" value of \"" + kv.getKey() + "\" must be a string, found "
                            + Json.kind(kv.getValue()));
                }
                out.put(kv.getKey(), kv.getValue().textValue());
            }
        }

        private Entry readEntry(String name, JsonNode node, long dataSize) {
            if (!node.isObject()) throw fail(name, "entry must be a JSON object, found " + Json.kind(node));

            JsonNode dtypeNode = node.path("dtype");
            if (!dtypeNode.isTextual()) throw fail(name, "\"dtype\" must be a string, found " + Json.kind(dtypeNode));
            DType dtype = DType.fromSafetensors(dtypeNode.textValue(), name, path);

            JsonNode shapeNode = node.path("shape");
            if (!shapeNode.isArray()) throw fail(name, "\"shape\" must be an array, found " + Json.kind(shapeNode));
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = nonNegativeLong(name, "shape", shapeNode.get(i));
            }

            JsonNode offsetsNode = node.path("data_offsets");
            if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
                throw fail(name, "\"data_offsets\" must be an array [begin, end], found " + Json.kind(offsetsNode)
                        + (offsetsNode.isArray() ? " of " + offsetsNode.size() + " elements" : ""));
            }
            long begin = nonNegativeLong(name, "data_offsets", offsetsNode.get(0));
            long end = nonNegativeLong(name, "data_offsets", offsetsNode.get(1));
            String offsets = "data_offsets [" + begin + ", " + end + "]";
            if (end < begin) throw fail(name, offsets + " end before they begin");

            long byteLength;
            try {
                long count = 1;
                for (long d : shape) count = Math.multiplyExact(count, d);
                byteLength = Math.multiplyExact(count, (long) dtype.byteSize());
            } catch (ArithmeticException e) {
                throw fail(name, "shape " + Arrays.toString(shape) + " is too large (its byte size overflows)");
            }
            if (end - begin != byteLength) {
                throw fail(name, offsets + " hold " + (end - begin) + " bytes but " + dtype + " "
                        + Arrays.toString(shape) + " needs " + byteLength);
            }
            if (end > dataSize) {
                throw fail(name, offsets + " reach beyond the data section (" + dataSize
                        + " bytes): file truncated?");
            }
            return new Entry(name, dtype, shape, begin, end);
        }

        private long nonNegativeLong(String tensor, String field, JsonNode n) {
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw fail(tensor, "\"" + field + "\" must hold non-negative integers, found " + Json.kind(n));
            }
            long v = n.longValue();
            if (v < 0) throw fail(tensor, "\"" + field + "\" must hold non-negative integers, found " + v);
            return v;
        }

        /** Empty tensors occupy no bytes, so only non-empty ranges can overlap. */
        private void checkNoOverlap(List<Entry> entries) {
            List<Entry> sorted = entries.stream()
                    .filter(e -> e.end > e.begin)
                    .sorted(Comparator.comparingLong(Entry::begin))
                    .toList();
            for (int i = 1; i < sorted.size(); i++) {
                Entry prev = sorted.get(i - 1), cur = sorted.get(i);
                if (cur.begin < prev.end) {
                    throw fail("tensors \"" + prev.name + "\" (data_offsets [" + prev.begin + ", " + prev.end
                            + "]) and \"" + cur.name + "\" (data_offsets [" + cur.begin + ", " + cur.end
                            + "]) overlap");
                }
            }
        }

        private ModelFormatException fail(String problem) {
            return new ModelFormatException(path + ": " + problem);
        }

        private ModelFormatException fail(String tensor, String problem) {
            return new ModelFormatException(path + ": tensor \"" + tensor + "\": " + problem);
        }
    }
}
