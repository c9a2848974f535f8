package bertj.loader.onnx;

import bertj.loader.ByteSink;
import bertj.loader.TextFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds an ONNX {@code ModelProto} and writes it to a file, streaming the initializers' bytes: nodes and
 * value infos are small and encoded in memory, while each initializer contributes only its header and a
 * {@link TensorData} callback that writes its {@code raw_data} when the file is written. Field numbers are
 * those of <a href="https://github.com/onnx/onnx/blob/main/onnx/onnx.proto">onnx.proto</a>.
 *
 * <p>A protobuf message cannot exceed 2 GiB, so neither can a model without external data; {@link #write}
 * refuses larger graphs before writing anything.
 */
final class OnnxModelWriter {
    /** TensorProto.DataType values. */
    static final int FLOAT = 1;
    static final int INT64 = 7;

    /** protobuf's hard limit on a serialized message. */
    static final long MAX_PROTO_BYTES = Integer.MAX_VALUE;

    /** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
    private static final long IR_VERSION = 8;

    /** Writes an initializer's {@code raw_data}: exactly its declared byte count, little-endian. */
    @FunctionalInterface
    interface TensorData {
        void writeTo(ByteSink sink) throws IOException;
    }

    /** An attribute of a node ({@code AttributeProto}). */
    record Attribute(String name, int type, long i, float f, long[] ints) {
        // AttributeProto.AttributeType
        private static final int TYPE_FLOAT = 1, TYPE_INT = 2, TYPE_INTS = 7;

        static Attribute ofInt(String name, long value) {
            return new Attribute(name, TYPE_INT, value, 0, null);
        }

        static Attribute ofFloat(String name, float value) {
            return new Attribute(name, TYPE_FLOAT, 0, value, null);
        }

        static Attribute ofInts(String name, long... values) {
            return new Attribute(name, TYPE_INTS, 0, 0, values.clone());
        }

        ProtoWriter encode() {
            ProtoWriter a = new ProtoWriter().string(1, name);
            switch (type) {
                case TYPE_FLOAT -> a.float32(2, f);
                case TYPE_INT -> a.int64(3, i);
                case TYPE_INTS -> { for (long v : ints) a.int64(8, v); }
                default -> throw new AssertionError(type);
            }
            return a.int64(20, type);
        }
    }

    private record Initializer(byte[] header, long dataBytes, TensorData data, String name) {
        /** The whole TensorProto: header fields, then raw_data (field 9). */
        long messageBytes() {
            return header.length + ProtoWriter.lengthDelimitedHeaderSize(9, dataBytes) + dataBytes;
        }
    }

    private final String graphName;
    private final long opsetVersion;
    private final String producerVersion;
    private final List<byte[]> nodes = new ArrayList<>();
    private final List<Initializer> initializers = new ArrayList<>();
    private final List<byte[]> inputs = new ArrayList<>();
    private final List<byte[]> outputs = new ArrayList<>();
    private final Set<String> valueNames = new HashSet<>();

    OnnxModelWriter(String graphName, long opsetVersion, String producerVersion) {
        this.graphName = graphName;
        this.opsetVersion = opsetVersion;
        this.producerVersion = producerVersion;
    }

    /**
     * A graph input or output of tensor type; each dimension is a {@code Long}/{@code Integer} size or a
     * {@code String} symbolic name (a dynamic axis).
     */
    void input(String name, int elementType, Object... dims) {
        define(name);
        inputs.add(valueInfo(name, elementType, dims));
    }

    void output(String name, int elementType, Object... dims) {
        outputs.add(valueInfo(name, elementType, dims));
    }

    /** Appends a node (the caller adds them in topological order, as ONNX requires). */
    void node(String opType, String name, List<String> nodeInputs, List<String> nodeOutputs, Attribute... attributes) {
        for (String in : nodeInputs) {
            if (!in.isEmpty() && !valueNames.contains(in)) {
                throw new IllegalStateException("node " + name + " reads '" + in + "' before anything defines it");
            }
        }
        ProtoWriter n = new ProtoWriter();
        for (String in : nodeInputs) n.string(1, in);
        for (String out : nodeOutputs) {
            define(out);
            n.string(2, out);
        }
        n.string(3, name).string(4, opType);
        for (Attribute a : attributes) n.message(5, a.encode());
        nodes.add(n.toByteArray());
    }

    /** An initializer whose {@code byteCount} bytes of {@code raw_data} {@code data} writes at {@link #write} time. */
    void initializer(String name, int dataType, long[] dims, long byteCount, TensorData data) {
        define(name);
        long elements = 1;
        for (long d : dims) elements = Math.multiplyExact(elements, d);
        long expected = Math.multiplyExact(elements, dataType == INT64 ? 8L : 4L);
        if (byteCount != expected) {
            throw new IllegalArgumentException("initializer " + name + " " + Arrays.toString(dims) + " needs "
                    + expected + " bytes, got " + byteCount);
        }
        ProtoWriter header = new ProtoWriter();
        for (long d : dims) header.int64(1, d);
        header.int64(2, dataType).string(8, name);
        initializers.add(new Initializer(header.toByteArray(), byteCount, data, name));
    }

    void floatInitializer(String name, long[] dims, float... values) {
        initializer(name, FLOAT, dims, 4L * values.length, sink -> { for (float v : values) sink.putFloat(v); });
    }

    void longInitializer(String name, long[] dims, long... values) {
        initializer(name, INT64, dims, 8L * values.length, sink -> { for (long v : values) sink.putLong(v); });
    }

    /**
     * Writes the model to {@code file} (replacing it) through a temporary file in the same directory, so a
     * failed export never leaves a truncated model behind.
     */
    /**
     * What went wrong, in words: a file system exception's message is often only the path it failed on (here
     * the temporary file's), which says nothing of why.
     */
    static String cause(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason();
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (e instanceof java.nio.file.NoSuchFileException) return "no such file or directory";
        if (e instanceof java.nio.file.FileSystemException) return e.getClass().getSimpleName();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    void write(Path file) {
        long graphBytes = graphBytes();
        byte[] modelHeader = modelHeader(graphBytes);
        byte[] opsetImport = opsetImport();
        long total = modelHeader.length + graphBytes + opsetImport.length;
        if (total > MAX_PROTO_BYTES) {
            throw new IllegalArgumentException("the ONNX model would take " + total + " bytes, over protobuf's 2 GiB "
                    + "limit for one file (models this large need ONNX external data, which bertj does not write)");
        }
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 ByteSink sink = new ByteSink(channel)) {
                sink.put(modelHeader);
                writeGraph(sink);
                sink.put(opsetImport);
                sink.flush();
                if (sink.written() != total) {
                    throw new IllegalStateException("wrote " + sink.written() + " bytes to " + file + ", planned " + total);
                }
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + cause(e), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the export already failed or succeeded; that outcome is the one to report
            }
        }
    }

    private void writeGraph(ByteSink sink) throws IOException {
        for (byte[] node : nodes) writeField(sink, 1, node);
        writeField(sink, 2, TextFiles.utf8(graphName, "the graph name"));
        for (Initializer init : initializers) {
            sink.put(new ProtoWriter().lengthDelimitedHeader(5, init.messageBytes()).toByteArray());
            sink.put(init.header());
            sink.put(new ProtoWriter().lengthDelimitedHeader(9, init.dataBytes()).toByteArray());
            long before = sink.written();
            init.data().writeTo(sink);
            if (sink.written() - before != init.dataBytes()) {
                throw new IllegalStateException("initializer " + init.name() + " wrote " + (sink.written() - before)
                        + " bytes, declared " + init.dataBytes());
            }
        }
        for (byte[] in : inputs) writeField(sink, 11, in);
        for (byte[] out : outputs) writeField(sink, 12, out);
    }

    private long graphBytes() {
        long size = 0;
        for (byte[] node : nodes) size += fieldBytes(1, node.length);
        size += fieldBytes(2, TextFiles.utf8(graphName, "the graph name").length);
        for (Initializer init : initializers) size += fieldBytes(5, init.messageBytes());
        for (byte[] in : inputs) size += fieldBytes(11, in.length);
        for (byte[] out : outputs) size += fieldBytes(12, out.length);
        return size;
    }

    /** ModelProto fields before the graph, and the graph's own tag and length. */
    private byte[] modelHeader(long graphBytes) {
        return new ProtoWriter()
                .int64(1, IR_VERSION)
                .string(2, "bertj")
                .string(3, producerVersion)
                .lengthDelimitedHeader(7, graphBytes)
                .toByteArray();
    }

    private byte[] opsetImport() {
        return new ProtoWriter().message(8, new ProtoWriter().string(1, "").int64(2, opsetVersion)).toByteArray();
    }

    private static byte[] valueInfo(String name, int elementType, Object... dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) {
            ProtoWriter dim = new ProtoWriter();
            switch (d) {
                case String param -> dim.string(2, param);
                case Number size -> dim.int64(1, size.longValue());
                default -> throw new IllegalArgumentException("dimension " + d + " of " + name + " is neither a size nor a name");
            }
            shape.message(1, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().int64(1, elementType).message(2, shape);
        ProtoWriter type = new ProtoWriter().message(1, tensorType);
        return new ProtoWriter().string(1, name).message(2, type).toByteArray();
    }

    private void define(String name) {
        if (!valueNames.add(name)) throw new IllegalStateException("value '" + name + "' is defined twice");
    }

    private static long fieldBytes(int field, long payload) {
        return ProtoWriter.lengthDelimitedHeaderSize(field, payload) + payload;
    }

    private static void writeField(ByteSink sink, int field, byte[] payload) throws IOException {
        sink.put(new ProtoWriter().lengthDelimitedHeader(field, payload.length).toByteArray());
        sink.put(payload);
    }
}
