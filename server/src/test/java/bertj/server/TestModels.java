package bertj.server;

import bertj.fixtures.Fixtures;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The test models: the shared tiny fixtures, and a one-label cross-encoder (a reranker) made from the classifier. */
final class TestModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path reranker;

    private TestModels() {
    }

    static Path embedder() {
        return Fixtures.model("tiny-bert");
    }

    static Path classifier() {
        return Fixtures.model("tiny-bert-seqcls");
    }

    /** tiny-bert-seqcls keeping only its first label: what TEI serves as a re-ranker. */
    static synchronized Path reranker() {
        if (reranker != null) return reranker;
        try {
            Path source = classifier();
            // under the module's target folder (the tests' working directory), made anew by each test JVM
            Path dir = Path.of("target", "test-models", "tiny-bert-reranker").toAbsolutePath();
            if (Files.exists(dir)) {
                try (var old = Files.list(dir)) {
                    for (Path f : old.toList()) Files.delete(f);
                }
            }
            Files.createDirectories(dir);
            try (var files = Files.list(source)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (!name.equals("config.json") && !name.equals("model.safetensors")) Files.copy(f, dir.resolve(name));
                }
            }
            ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("config.json").toFile());
            config.putObject("id2label").put("0", "LABEL_0");
            config.putObject("label2id").put("LABEL_0", 0);
            Files.writeString(dir.resolve("config.json"), config.toString());
            Files.write(dir.resolve("model.safetensors"), firstLabelOnly(Files.readAllBytes(source.resolve("model.safetensors"))));
            reranker = dir;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The safetensors file with classifier.weight's first row and classifier.bias's first value only. */
    private static byte[] firstLabelOnly(byte[] file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) in.getLong(0);
        ObjectNode header = (ObjectNode) JSON.readTree(new String(file, 8, headerLength, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLength;
        List<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("__metadata__")) tensors.add(e);
        }
        tensors.sort(Comparator.comparingLong(e -> e.getValue().get("data_offsets").get(0).asLong()));
        ObjectNode out = JSON.createObjectNode();
        if (header.has("__metadata__")) out.set("__metadata__", header.get("__metadata__"));
        var data = new java.io.ByteArrayOutputStream();
        for (var e : tensors) {
            ObjectNode t = (ObjectNode) e.getValue().deepCopy();
            int from = dataStart + t.get("data_offsets").get(0).asInt(), to = dataStart + t.get("data_offsets").get(1).asInt();
            int bytes = to - from;
            if (e.getKey().equals("classifier.weight")) {
                int rows = e.getValue().get("shape").get(0).asInt(), columns = e.getValue().get("shape").get(1).asInt();
                bytes /= rows;
                t.putArray("shape").add(1).add(columns);
            } else if (e.getKey().equals("classifier.bias")) {
                bytes = Float.BYTES;
                t.putArray("shape").add(1);
            }
            t.putArray("data_offsets").add(data.size()).add(data.size() + bytes);
            data.write(file, from, bytes);
            out.set(e.getKey(), t);
        }
        byte[] headerBytes = out.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8;
        ByteBuffer result = ByteBuffer.allocate(8 + padded + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        result.putLong(padded).put(headerBytes);
        for (int i = headerBytes.length; i < padded; i++) result.put((byte) ' ');
        result.put(data.toByteArray());
        return result.array();
    }
}
