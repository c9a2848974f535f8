package bertj.loader;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The weights of a model: one safetensors file, or the shards listed by a
 * {@code model.safetensors.index.json} ({@code {"weight_map": {tensor: shard file}}}), presented as one set
 * of named tensors. Owns the mapped files and closes them with itself.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Per-dtype totals, for {@code inspect}. */
    public record DTypeStats(DType dtype, int tensors, long elements, long bytes) {}

    private final Path source;
    private final List<SafetensorsFile> files;
    /** Tensor name to the file that holds it, in index (or header) order. */
    private final Map<String, SafetensorsFile> owners;

    private Checkpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> owners) {
        this.source = source;
        this.files = List.copyOf(files);
        this.owners = Collections.unmodifiableMap(owners);
    }

    /**
     * Opens the weights at {@code path}: a model directory (its {@code model.safetensors}, else its
     * {@code model.safetensors.index.json}), an index file, or a single {@code .safetensors} file.
     *
     * @throws ModelFormatException if there are no weights, a file is corrupt, or the index is inconsistent
     */
    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path single = path.resolve(SINGLE_FILE);
            if (Files.exists(single)) return openSingle(single);
            Path index = path.resolve(INDEX_FILE);
            if (Files.exists(index)) return openSharded(index);
            String hint = Files.exists(path.resolve("pytorch_model.bin"))
                    ? " (it has pytorch_model.bin; bertj reads safetensors only: convert it, e.g. with "
                      + "transformers' save_pretrained(..., safe_serialization=True))"
                    : "";
            throw new ModelFormatException(path + ": no " + SINGLE_FILE + " or " + INDEX_FILE + hint);
        }
        if (!Files.exists(path)) throw new ModelFormatException(path + ": no such file or directory");
        String fileName = path.getFileName().toString();
        return fileName.endsWith(".index.json") ? openSharded(path) : openSingle(path);
    }

    private static Checkpoint openSingle(Path file) {
        SafetensorsFile st = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        for (String name : st.names()) owners.put(name, st);
        return new Checkpoint(file, List.of(st), owners);
    }

    /**
     * The shard files a {@code model.safetensors.index.json} names, each once, in the order it first names them;
     * neither opened nor checked to exist.
     *
     * @throws ModelFormatException if the index is malformed, empty, or names a shard with something not a string
     */
    public static List<String> shardFiles(Path index) {
        Set<String> files = new LinkedHashSet<>();
        for (Map.Entry<String, JsonNode> e : weightMap(index).properties()) {
            files.add(shardName(index, e.getKey(), e.getValue()));
        }
        if (files.isEmpty()) throw new ModelFormatException(index + ": \"weight_map\" is empty");
        return List.copyOf(files);
    }

    private static JsonNode weightMap(Path index) {
        JsonNode weightMap = Json.readObject(index).path("weight_map");
        if (!weightMap.isObject()) {
            throw new ModelFormatException(index + ": \"weight_map\" must be an object of tensor name to shard file, found "
                    + Json.kind(weightMap));
        }
        return weightMap;
    }

    private static String shardName(Path index, String tensor, JsonNode value) {
        if (!value.isTextual()) {
            throw new ModelFormatException(index + ": weight_map entry for \"" + tensor
                    + "\" must be a file name, found " + Json.kind(value));
        }
        return value.textValue();
    }

    private static Checkpoint openSharded(Path index) {
        JsonNode weightMap = weightMap(index);
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<Path, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                String tensor = e.getKey();
                Path shardPath = shardPath(index, dir, tensor, e.getValue());
                SafetensorsFile shard = shards.get(shardPath);
                if (shard == null) {
                    shard = SafetensorsFile.open(shardPath);
                    shards.put(shardPath, shard);
                }
                if (!shard.contains(tensor)) {
                    throw new ModelFormatException(index + ": weight_map puts tensor \"" + tensor + "\" in "
                            + shardPath.getFileName() + ", but that shard has no such tensor");
                }
                owners.put(tensor, shard);
            }
            if (owners.isEmpty()) throw new ModelFormatException(index + ": \"weight_map\" is empty");
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new Checkpoint(index, new ArrayList<>(shards.values()), owners);
    }

    /** The shard named by a weight_map entry, which must be a file inside the index's directory. */
    private static Path shardPath(Path index, Path dir, String tensor, JsonNode value) {
        String name = shardName(index, tensor, value);
        Path shard;
        try {
            shard = dir.resolve(name).normalize();
        } catch (InvalidPathException ex) {
            throw new ModelFormatException(index + ": weight_map entry for \"" + tensor + "\": invalid file name \""
                    + name + "\"");
        }
        if (!shard.startsWith(dir) || shard.equals(dir)) {
            throw new ModelFormatException(index + ": weight_map entry for \"" + tensor + "\" points outside the "
                    + "model directory: \"" + name + "\"");
        }
        if (!Files.isRegularFile(shard)) {
            throw new ModelFormatException(index + ": shard \"" + name + "\" (for tensor \"" + tensor
                    + "\") does not exist");
        }
        return shard;
    }

    /** What was opened: the safetensors file or the index file. */
    public Path source() {
        return source;
    }

    /** The safetensors files, in the order the index first names them. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** Tensor names, in index (or header) order. */
    public List<String> names() {
        return List.copyOf(owners.keySet());
    }

    public boolean contains(String name) {
        return owners.containsKey(name);
    }

    public Optional<Tensor> find(String name) {
        SafetensorsFile f = owners.get(name);
        return f == null ? Optional.empty() : Optional.of(f.tensor(name));
    }

    /** @throws ModelFormatException naming the tensor and the checkpoint when there is no such tensor */
    public Tensor tensor(String name) {
        SafetensorsFile f = owners.get(name);
        if (f == null) throw new ModelFormatException(source + ": no tensor named \"" + name + "\"");
        return f.tensor(name);
    }

    /** The file that holds tensor {@code name}. */
    public Optional<Path> fileOf(String name) {
        return Optional.ofNullable(owners.get(name)).map(SafetensorsFile::path);
    }

    /** Bytes of tensor data (what the index calls total_size). */
    public long totalBytes() {
        long sum = 0;
        for (String name : owners.keySet()) sum += tensor(name).byteSize();
        return sum;
    }

    /** Sizes of the files on disk, headers included. */
    public long fileBytes() {
        return files.stream().mapToLong(SafetensorsFile::fileSize).sum();
    }

    /** Tensor count, elements and bytes per dtype, in {@link DType} order. */
    public Map<DType, DTypeStats> dtypeSummary() {
        Map<DType, DTypeStats> out = new EnumMap<>(DType.class);
        for (String name : owners.keySet()) {
            Tensor t = tensor(name);
            out.merge(t.dtype(), new DTypeStats(t.dtype(), 1, t.elementCount(), t.byteSize()),
                    (a, b) -> new DTypeStats(a.dtype(), a.tensors() + b.tensors(), a.elements() + b.elements(),
                            a.bytes() + b.bytes()));
        }
        return Collections.unmodifiableMap(out);
    }

    /** Unmaps every file. Idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }

    @Override
    public String toString() {
        return "Checkpoint[" + source + ", " + files.size() + " file(s), " + owners.size() + " tensors]";
    }
}
