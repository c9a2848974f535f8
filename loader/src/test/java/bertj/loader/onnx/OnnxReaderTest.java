package bertj.loader.onnx;

import static bertj.loader.onnx.Proto.floatTensor;
import static bertj.loader.onnx.Proto.int64Tensor;
import static bertj.loader.onnx.Proto.node;
import static bertj.loader.onnx.Proto.valueInfo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxReaderTest {

    /** y = x W + b, with a Constant node and a Reshape, covering each way TensorProto carries elements. */
    static byte[] smallModel() {
        Proto graph = new Proto()
                .message(1, node("MatMul", "/dense/MatMul", List.of("x", "W"), List.of("xw")))
                .message(1, node("Add", "/dense/Add", List.of("b", "xw"), List.of("h")))
                .message(1, node("Constant", "c", List.of(), List.of("shape"),
                        Proto.tensorAttribute("value", int64Tensor("", -1, 3))))
                .message(1, node("Reshape", "r", List.of("h", "shape"), List.of("y"), Proto.intAttribute("allowzero", 0)))
                .message(1, node("Softmax", "s", List.of("y"), List.of("z"), Proto.intAttribute("axis", -1),
                        Proto.floatAttribute("unused", 0.5f), Proto.intsAttribute("perm", 0, 2, 1)))
                .string(2, "test-graph")
                .message(5, floatTensor("W", new long[] {4, 3}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
                // float_data, packed
                .message(5, new Proto().packedVarints(1, 3).varint(2, 1).string(8, "b").packedFloats(4, 0.5f, -1f, 2f))
                // float_data, one value per key
                .message(5, new Proto().packedVarints(1, 2).varint(2, 1).string(8, "u").float32(4, 7f).float32(4, 8f))
                // int32_data with a negative value (sign-extended to 10 bytes on the wire)
                .message(5, new Proto().packedVarints(1, 2).varint(2, 6).string(8, "i32").varint(5, -5).varint(5, 9))
                .message(5, int64Tensor("i64", Long.MIN_VALUE, 42))
                .message(11, valueInfo("x", OnnxDataType.FLOAT, "batch", 4L))
                .message(12, valueInfo("z", OnnxDataType.FLOAT, "batch", 3L));
        return Proto.model(graph).toByteArray();
    }

    @Test
    void readsEveryPartOfAHandBuiltModel() {
        byte[] bytes = smallModel();
        OnnxModel model = OnnxReader.parse(bytes, "small.onnx");
        assertEquals(8, model.irVersion());
        assertEquals("bertj-test", model.producerName());
        assertEquals(Map.of("", 17L), model.opsetImports());

        OnnxGraph g = model.graph();
        assertEquals("test-graph", g.name());
        assertEquals(List.of("MatMul", "Add", "Constant", "Reshape", "Softmax"), g.nodes().stream().map(OnnxNode::opType).toList());
        OnnxNode matMul = g.nodes().getFirst();
        assertEquals("/dense/MatMul", matMul.name());
        assertEquals(List.of("x", "W"), matMul.inputs());
        assertEquals(List.of("xw"), matMul.outputs());
        assertSame(g.nodes().get(1), g.consumers("xw").getFirst());
        assertSame(matMul, g.producer("xw"));
        assertNull(g.producer("x"));

        OnnxTensor w = g.initializers().get("W");
        assertEquals(OnnxDataType.FLOAT, w.dataType());
        assertArrayEquals(new long[] {4, 3}, w.dims());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, w.toFloatArray());
        assertSame(bytes, w.data().heapBase().orElseThrow(), "raw_data must be a view of the input, not a copy");
        assertArrayEquals(new float[] {0.5f, -1f, 2f}, g.initializers().get("b").toFloatArray());
        assertArrayEquals(new float[] {7f, 8f}, g.initializers().get("u").toFloatArray());
        assertArrayEquals(new long[] {-5, 9}, g.initializers().get("i32").toLongArray());
        assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, g.initializers().get("i64").toLongArray());
        assertEquals(List.of("W", "b", "u", "i32", "i64"), List.copyOf(g.initializers().keySet()));

        assertArrayEquals(new long[] {-1, 3}, g.constant("shape").toLongArray(), "a Constant node's value");
        assertSame(w, g.constant("W"));
        assertNull(g.constant("h"));
        OnnxNode softmax = g.nodes().get(4);
        assertEquals(OnnxAttribute.Type.INT, softmax.attribute("axis").type());
        assertEquals(-1, softmax.attribute("axis").i());
        assertEquals(0.5f, softmax.attribute("unused").f());
        assertEquals(List.of(0L, 2L, 1L), softmax.attribute("perm").ints());

        assertEquals(List.of(new OnnxValueInfo("x", OnnxDataType.FLOAT, List.of("batch", "4"))), g.inputs());
        assertEquals("z", g.outputs().getFirst().name());
    }

    @Test
    void skipsFieldsItHasNoUseFor() {
        // value_info (13) and doc_string (10) between the fields it reads, with lengths of one and two varint bytes
        Proto graph = new Proto()
                .message(13, valueInfo("x", OnnxDataType.FLOAT, "batch", 4L))
                .string(10, "d".repeat(300))
                .message(1, node("Relu", "r", List.of("x"), List.of("y")))
                .message(13, valueInfo("y", OnnxDataType.FLOAT, "batch", 4L))
                .string(2, "after-skipped-fields");
        OnnxGraph g = OnnxReader.parse(Proto.model(graph).toByteArray(), "skip.onnx").graph();
        assertEquals("after-skipped-fields", g.name());
        assertEquals(List.of("Relu"), g.nodes().stream().map(OnnxNode::opType).toList());
    }

    @Test
    void readsAMappedFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("small.onnx");
        Files.write(file, smallModel());
        try (Arena arena = Arena.ofConfined()) {
            OnnxModel model = OnnxReader.read(file, arena);
            assertArrayEquals(new float[] {0.5f, -1f, 2f}, model.graph().initializers().get("b").toFloatArray());
        }
    }

    @Test
    void everyTruncationIsAClearError() {
        byte[] bytes = smallModel(); // the graph is the last field, so every strict prefix is incomplete
        for (int n = 0; n < bytes.length; n++) {
            byte[] prefix = Arrays.copyOf(bytes, n);
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxReader.parse(prefix, "cut.onnx"),
                    "prefix of " + n + " bytes");
            assertTrue(e.getMessage().startsWith("cut.onnx: "), e.getMessage());
        }
    }

    @Test
    void randomCorruptionIsParsedOrRejectedCleanly() {
        byte[] bytes = smallModel();
        Random random = new Random(20260101);
        int rejected = 0;
        for (int trial = 0; trial < 3000; trial++) {
            byte[] corrupt = bytes.clone();
            for (int k = 1 + random.nextInt(3); k > 0; k--) corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
            try {
                OnnxModel m = OnnxReader.parse(corrupt, "fuzz.onnx");
                for (OnnxTensor t : m.graph().initializers().values()) assertEquals(t.elementCount() * t.dataType().byteSize(), t.data().byteSize());
            } catch (OnnxFormatException e) {
                rejected++;
            } catch (RuntimeException e) {
                fail("trial " + trial + ": " + e + " instead of OnnxFormatException", e);
            }
        }
        assertTrue(rejected > 100, "most corruptions should be detected, got " + rejected);
    }

    @Test
    void aHugeLengthIsRejectedBeforeAnyAllocation() {
        byte[] bytes = new Proto().tag(7, 2).rawVarint(1L << 62).raw(new byte[16]).toByteArray();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxReader.parse(bytes, "huge.onnx"));
        assertEquals("huge.onnx: at byte 1: length 4611686018427387904 exceeds the 16 bytes that remain", e.getMessage());
    }

    @Test
    void malformedWireDataIsRejected() {
        assertError("varint longer than 10 bytes", new Proto().tag(1, 0).raw(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1}));
        assertError("unsupported wire type 3 for field 5", new Proto().tag(5, 3));
        assertError("invalid field number 0", new Proto().raw((byte) 2, (byte) 0));
        assertError("field ModelProto.graph has wire type 0, expected 2", new Proto().varint(7, 1));
        assertError("not an ONNX model: no graph", new Proto().varint(1, 8));
        Proto attribute = new Proto().string(1, "attr").tag(2, 5).raw((byte) 0); // a float cut after one byte
        assertError("truncated: need 4 bytes, 1 remain",
                new Proto().message(7, new Proto().message(1, new Proto().message(5, attribute))));
    }

    @Test
    void inconsistentTensorsAreRejected() {
        assertTensorError("tensor 'w' of type FLOAT and shape [2, 3] needs 24 bytes of data, found 20",
                Proto.tensor("w", OnnxDataType.FLOAT, new long[] {2, 3}, new byte[20]));
        assertTensorError("tensor 'w' keeps its data in an external file",
                Proto.tensor("w", OnnxDataType.FLOAT, new long[] {1}, null).varint(14, 1));
        assertTensorError("tensor 's' has unsupported data type STRING",
                Proto.tensor("s", OnnxDataType.STRING, new long[] {1}, null));
        assertTensorError("tensor 'w' has unsupported data type code 99", Proto.tensor("w", OnnxDataType.FLOAT, new long[] {1}, new byte[4]).varint(2, 99));
        assertTensorError("tensor 'w' has a negative dimension in [2, -3]",
                Proto.tensor("w", OnnxDataType.FLOAT, new long[] {2, -3}, new byte[0]));
        assertTensorError("tensor 'w' has a shape [4294967296, 4294967296] too large to address",
                Proto.tensor("w", OnnxDataType.FLOAT, new long[] {1L << 32, 1L << 32}, new byte[0]));
        assertTensorError("tensor 'w' of type INT64 has its data in field 4, which does not hold INT64",
                new Proto().packedVarints(1, 1).varint(2, 7).string(8, "w").packedFloats(4, 1f, 2f));
        assertTensorError("packed field 4 of 3 bytes is not a multiple of 4",
                new Proto().packedVarints(1, 1).varint(2, 1).string(8, "w").bytes(4, new byte[3]));
    }

    private static void assertTensorError(String expected, Proto tensor) {
        assertError(expected, Proto.model(new Proto().message(5, tensor)));
    }

    private static void assertError(String expected, Proto proto) {
        byte[] bytes = proto.toByteArray();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxReader.parse(bytes, "bad.onnx"));
        assertTrue(e.getMessage().startsWith("bad.onnx: ") && e.getMessage().contains(expected),
                "expected \"" + expected + "\" in: " + e.getMessage());
    }
}
