package bertj.loader.onnx;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static bertj.loader.onnx.ProtoReader.FIXED32;
import static bertj.loader.onnx.ProtoReader.FIXED64;
import static bertj.loader.onnx.ProtoReader.LENGTH_DELIMITED;
import static bertj.loader.onnx.ProtoReader.VARINT;
import static bertj.loader.onnx.ProtoReader.fieldNumber;
import static bertj.loader.onnx.ProtoReader.wireType;

/**
 * Reads an ONNX model ({@code onnx.proto}: ModelProto, GraphProto, NodeProto, TensorProto, ...) from its
 * protobuf encoding. Field numbers are those of
 * <a href="https://github.com/onnx/onnx/blob/main/onnx/onnx.proto">onnx.proto</a>; fields the converter has
 * no use for are skipped. Tensor data stored as {@code raw_data} stays a zero-copy slice of the input.
 */
public final class OnnxReader {
    private OnnxReader() {
    }

    /** Maps the file read-only into {@code arena} (tensors stay valid while it is open) and parses it. */
    public static OnnxModel read(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse(data, file.toString());
        }
    }

    public static OnnxModel parse(byte[] bytes, String source) {
        return parse(MemorySegment.ofArray(bytes), source);
    }

    public static OnnxModel parse(MemorySegment data, String source) {
        ProtoReader in = new ProtoReader(data, source);
        long irVersion = 0;
        String producerName = "", producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        OnnxGraph graph = null;
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (fieldNumber(tag)) {
                case 1 -> { in.expect(tag, VARINT, "ModelProto.ir_version"); irVersion = in.readVarint(); }
                case 2 -> { in.expect(tag, LENGTH_DELIMITED, "ModelProto.producer_name"); producerName = in.readString(); }
                case 3 -> { in.expect(tag, LENGTH_DELIMITED, "ModelProto.producer_version"); producerVersion = in.readString(); }
                case 7 -> { in.expect(tag, LENGTH_DELIMITED, "ModelProto.graph"); graph = graph(in.readMessage()); }
                case 8 -> {
                    in.expect(tag, LENGTH_DELIMITED, "ModelProto.opset_import");
                    ProtoReader opset = in.readMessage();
                    String domain = "";
                    long version = 0;
                    while (opset.hasMore()) {
                        int t = opset.readTag();
                        switch (fieldNumber(t)) {
                            case 1 -> { opset.expect(t, LENGTH_DELIMITED, "OperatorSetIdProto.domain"); domain = opset.readString(); }
                            case 2 -> { opset.expect(t, VARINT, "OperatorSetIdProto.version"); version = opset.readVarint(); }
                            default -> opset.skip(t);
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> in.skip(tag);
            }
        }
        if (graph == null) throw new OnnxFormatException(source + ": not an ONNX model: no graph");
        return new OnnxModel(irVersion, producerName, producerVersion, Map.copyOf(opsets), graph);
    }

    private static OnnxGraph graph(ProtoReader in) {
        String name = "";
        List<OnnxNode> nodes = new ArrayList<>();
        List<OnnxTensor> initializers = new ArrayList<>();
        List<OnnxValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (fieldNumber(tag)) {
                case 1 -> { in.expect(tag, LENGTH_DELIMITED, "GraphProto.node"); nodes.add(node(in.readMessage())); }
                case 2 -> { in.expect(tag, LENGTH_DELIMITED, "GraphProto.name"); name = in.readString(); }
                case 5 -> { in.expect(tag, LENGTH_DELIMITED, "GraphProto.initializer"); initializers.add(tensor(in.readMessage())); }
                case 11 -> { in.expect(tag, LENGTH_DELIMITED, "GraphProto.input"); inputs.add(valueInfo(in.readMessage())); }
                case 12 -> { in.expect(tag, LENGTH_DELIMITED, "GraphProto.output"); outputs.add(valueInfo(in.readMessage())); }
                default -> in.skip(tag);
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNode node(ProtoReader in) {
        String name = "", opType = "", domain = "";
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        Map<String, OnnxAttribute> attributes = new LinkedHashMap<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (fieldNumber(tag)) {
                case 1 -> { in.expect(tag, LENGTH_DELIMITED, "NodeProto.input"); inputs.add(in.readString()); }
                case 2 -> { in.expect(tag, LENGTH_DELIMITED, "NodeProto.output"); outputs.add(in.readString()); }
                case 3 -> { in.expect(tag, LENGTH_DELIMITED, "NodeProto.name"); name = in.readString(); }
                case 4 -> { in.expect(tag, LENGTH_DELIMITED, "NodeProto.op_type"); opType = in.readString(); }
                case 5 -> {
                    in.expect(tag, LENGTH_DELIMITED, "NodeProto.attribute");
                    OnnxAttribute a = attribute(in.readMessage());
                    attributes.put(a.name(), a);
                }
                case 7 -> { in.expect(tag, LENGTH_DELIMITED, "NodeProto.domain"); domain = in.readString(); }
                default -> in.skip(tag);
            }
        }
        return new OnnxNode(name, opType, domain, List.copyOf(inputs), List.copyOf(outputs), attributes);
    }

    private static OnnxAttribute attribute(ProtoReader in) {
        String name = "", s = null;
        OnnxAttribute.Type type = OnnxAttribute.Type.UNDEFINED, present = OnnxAttribute.Type.UNDEFINED;
        float f = 0;
        long i = 0;
        OnnxTensor t = null;
        List<Float> floats = new ArrayList<>();
        List<Long> ints = new ArrayList<>();
        List<String> strings = new ArrayList<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (fieldNumber(tag)) {
                case 1 -> { in.expect(tag, LENGTH_DELIMITED, "AttributeProto.name"); name = in.readString(); }
                case 2 -> { in.expect(tag, FIXED32, "AttributeProto.f"); f = in.readFixed32Float(); present = OnnxAttribute.Type.FLOAT; }
                case 3 -> { in.expect(tag, VARINT, "AttributeProto.i"); i = in.readVarint(); present = OnnxAttribute.Type.INT; }
                case 4 -> { in.expect(tag, LENGTH_DELIMITED, "AttributeProto.s"); s = in.readString(); present = OnnxAttribute.Type.STRING; }
                case 5 -> { in.expect(tag, LENGTH_DELIMITED, "AttributeProto.t"); t = tensor(in.readMessage()); present = OnnxAttribute.Type.TENSOR; }
                case 7 -> {
                    readRepeated(in, tag, FIXED32, "AttributeProto.floats", r -> floats.add(r.readFixed32Float()));
                    present = OnnxAttribute.Type.FLOATS;
                }
                case 8 -> {
                    readRepeated(in, tag, VARINT, "AttributeProto.ints", r -> ints.add(r.readVarint()));
                    present = OnnxAttribute.Type.INTS;
                }
                case 9 -> { in.expect(tag, LENGTH_DELIMITED, "AttributeProto.strings"); strings.add(in.readString()); present = OnnxAttribute.Type.STRINGS; }
                case 20 -> { in.expect(tag, VARINT, "AttributeProto.type"); type = OnnxAttribute.Type.ofCode(in.readInt32()); }
                default -> in.skip(tag); // graphs, sparse tensors, type protos: not needed for a BERT export
            }
        }
        if (type == OnnxAttribute.Type.UNDEFINED) type = present; // IR version 1 files carry no type
        return new OnnxAttribute(name, type, f, i, s, t, List.copyOf(floats), List.copyOf(ints), List.copyOf(strings));
    }

    private static OnnxValueInfo valueInfo(ProtoReader in) {
        String name = "";
        OnnxDataType elementType = null;
        List<String> shape = new ArrayList<>();
        while (in.hasMore()) {
            int tag = in.readTag();
            if (fieldNumber(tag) == 1) {
                in.expect(tag, LENGTH_DELIMITED, "ValueInfoProto.name");
                name = in.readString();
            } else if (fieldNumber(tag) == 2 && wireType(tag) == LENGTH_DELIMITED) {
                ProtoReader type = in.readMessage();
                while (type.hasMore()) {
                    int t = type.readTag();
                    if (fieldNumber(t) != 1 || wireType(t) != LENGTH_DELIMITED) { type.skip(t); continue; } // not a tensor type
                    ProtoReader tensorType = type.readMessage();
                    while (tensorType.hasMore()) {
                        int tt = tensorType.readTag();
                        if (fieldNumber(tt) == 1 && wireType(tt) == VARINT) {
                            elementType = OnnxDataType.ofCode(tensorType.readInt32());
                        } else if (fieldNumber(tt) == 2 && wireType(tt) == LENGTH_DELIMITED) {
                            ProtoReader shapeProto = tensorType.readMessage();
                            while (shapeProto.hasMore()) {
                                int st = shapeProto.readTag();
                                if (fieldNumber(st) == 1 && wireType(st) == LENGTH_DELIMITED) shape.add(dimension(shapeProto.readMessage()));
                                else shapeProto.skip(st);
                            }
                        } else {
                            tensorType.skip(tt);
                        }
                    }
                }
            } else {
                in.skip(tag);
            }
        }
        return new OnnxValueInfo(name, elementType, List.copyOf(shape));
    }

    /** {@code TensorShapeProto.Dimension}: its size, its symbolic name, or "?" when neither is given. */
    private static String dimension(ProtoReader in) {
        String dim = "?";
        while (in.hasMore()) {
            int tag = in.readTag();
            if (fieldNumber(tag) == 1 && wireType(tag) == VARINT) dim = Long.toString(in.readVarint());
            else if (fieldNumber(tag) == 2 && wireType(tag) == LENGTH_DELIMITED) dim = in.readString();
            else in.skip(tag);
        }
        return dim;
    }

    private static OnnxTensor tensor(ProtoReader in) {
        long start = in.position();
        String name = "";
        int typeCode = 0;
        LongList dims = new LongList();
        MemorySegment raw = null;
        List<MemorySegment> fixedData = new ArrayList<>(); // float_data / double_data, little-endian on the wire
        LongList varintData = new LongList();              // int32_data / int64_data / uint64_data
        boolean external = false;
        int dataField = 0; // the typed field (4, 5, 7, 10 or 11) that carried the elements, if any
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (fieldNumber(tag)) {
                case 1 -> readVarints(in, tag, dims);
                case 2 -> { in.expect(tag, VARINT, "TensorProto.data_type"); typeCode = in.readInt32(); }
                case 4 -> { dataField = dataField(in, tag, dataField); readFixed(in, tag, FIXED32, 4, fixedData); }
                case 5, 7, 11 -> { dataField = dataField(in, tag, dataField); readVarints(in, tag, varintData); }
                case 8 -> { in.expect(tag, LENGTH_DELIMITED, "TensorProto.name"); name = in.readString(); }
                case 9 -> { in.expect(tag, LENGTH_DELIMITED, "TensorProto.raw_data"); raw = in.readBytes(); }
                case 10 -> { dataField = dataField(in, tag, dataField); readFixed(in, tag, FIXED64, 8, fixedData); }
                case 13 -> { external = true; in.skip(tag); }
                case 14 -> { in.expect(tag, VARINT, "TensorProto.data_location"); external |= in.readVarint() == 1; }
                default -> in.skip(tag);
            }
        }
        String what = "tensor '" + name + "'";
        if (external) {
            throw in.error(start, what + " keeps its data in an external file, which is not supported"
                    + " (re-export the model with all tensors inside the .onnx file)");
        }
        OnnxDataType type = OnnxDataType.ofCode(typeCode);
        if (type == null || type.byteSize() == 0) {
            throw in.error(start, what + " has unsupported data type " + (type == null ? "code " + typeCode : type));
        }
        if (dataField != 0 && (raw != null || !fieldHolds(dataField, type))) {
            throw in.error(start, what + " of type " + type + " has its data in "
                    + (raw != null ? "both raw_data and field " + dataField : "field " + dataField + ", which does not hold " + type));
        }
        long[] shape = dims.toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw in.error(start, what + " has a negative dimension in " + Arrays.toString(shape));
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw in.error(start, what + " has a shape " + Arrays.toString(shape) + " too large to address");
            }
        }
        MemorySegment data;
        if (raw != null) data = raw;
        else if (!fixedData.isEmpty()) data = concat(fixedData);
        else data = encode(varintData, type.byteSize());
        long expected = count <= Long.MAX_VALUE / type.byteSize() ? count * type.byteSize() : -1;
        if (data.byteSize() != expected) {
            throw in.error(start, what + " of type " + type + " and shape " + Arrays.toString(shape) + " needs "
                    + (expected < 0 ? "more than 2^63" : Long.toString(expected)) + " bytes of data, found " + data.byteSize());
        }
        return new OnnxTensor(name, type, shape, data);
    }

    private static int dataField(ProtoReader in, int tag, int previous) {
        int field = fieldNumber(tag);
        if (previous != 0 && previous != field) {
            throw in.error(in.position(), "tensor has elements in two data fields, " + previous + " and " + field);
        }
        return field;
    }

    /** Which typed data field of TensorProto may hold elements of a type (onnx.proto's comments on each field). */
    private static boolean fieldHolds(int field, OnnxDataType type) {
        return switch (field) {
            case 4 -> type == OnnxDataType.FLOAT || type == OnnxDataType.COMPLEX64;
            case 5 -> switch (type) {
                case INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16 -> true;
                default -> false;
            };
            case 7 -> type == OnnxDataType.INT64;
            case 10 -> type == OnnxDataType.DOUBLE || type == OnnxDataType.COMPLEX128;
            case 11 -> type == OnnxDataType.UINT32 || type == OnnxDataType.UINT64;
            default -> false;
        };
    }

    /** A repeated varint field, packed (one length-delimited run) or not (one value per key). */
    private static void readVarints(ProtoReader in, int tag, LongList out) {
        readRepeated(in, tag, VARINT, "repeated integer field " + fieldNumber(tag), r -> out.add(r.readVarint()));
    }

    /**
     * One key of a repeated field of scalars: packed (one length-delimited run of values) or not (one value, of wire
     * type {@code wireType}), each value read by {@code readOne}. {@code field} names it in errors.
     */
    private static void readRepeated(ProtoReader in, int tag, int wireType, String field, Consumer<ProtoReader> readOne) {
        if (wireType(tag) == LENGTH_DELIMITED) {
            ProtoReader packed = in.readMessage();
            while (packed.hasMore()) readOne.accept(packed);
        } else {
            in.expect(tag, wireType, field);
            readOne.accept(in);
        }
    }

    /** A repeated fixed-width field: its little-endian bytes are already the element bytes. */
    private static void readFixed(ProtoReader in, int tag, int wireType, int width, List<MemorySegment> out) {
        if (wireType(tag) == LENGTH_DELIMITED) {
            long at = in.position();
            MemorySegment packed = in.readBytes();
            if (packed.byteSize() % width != 0) {
                throw in.error(at, "packed field " + fieldNumber(tag) + " of " + packed.byteSize() + " bytes is not a multiple of " + width);
            }
            out.add(packed);
        } else {
            in.expect(tag, wireType, "repeated fixed field " + fieldNumber(tag));
            out.add(in.readFixedBytes(width));
        }
    }

    private static MemorySegment concat(List<MemorySegment> parts) {
        if (parts.size() == 1) return parts.getFirst();
        long total = 0;
        for (MemorySegment p : parts) total += p.byteSize(); // bounded by the input size: each part is a slice of it
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(total)]);
        long at = 0;
        for (MemorySegment p : parts) {
            MemorySegment.copy(p, 0, out, at, p.byteSize());
            at += p.byteSize();
        }
        return out;
    }

    /** Integer values (and FLOAT16/BFLOAT16 bit patterns, which ONNX stores in int32_data) as little-endian elements. */
    private static MemorySegment encode(LongList values, int width) {
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact((long) values.size() * width)]);
        for (int k = 0; k < values.size(); k++) {
            long v = values.get(k);
            switch (width) {
                case 1 -> out.set(ValueLayout.JAVA_BYTE, k, (byte) v);
                case 2 -> out.setAtIndex(OnnxTensor.I16, k, (short) v);
                case 4 -> out.setAtIndex(OnnxTensor.I32, k, (int) v);
                default -> out.setAtIndex(OnnxTensor.I64, k, v);
            }
        }
        return out;
    }

    /** A growable long[]: its size is bounded by the bytes actually read (each value takes at least one). */
    private static final class LongList {
        private long[] values = new long[8];
        private int size;

        void add(long v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long get(int k) {
            return values[k];
        }

        int size() {
            return size;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
