package bertj.loader.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import bertj.loader.onnx.OnnxModelWriter.Attribute;
import bertj.loader.onnx.OnnxDataType;
import bertj.loader.onnx.OnnxModel;
import bertj.loader.onnx.OnnxNode;
import bertj.loader.onnx.OnnxReader;
import bertj.loader.onnx.OnnxValueInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The protobuf encoding and the streamed model file, independent of BERT. */
class OnnxModelWriterTest {
    @TempDir
    Path tmp;

    @Test
    void varintsAndFixedFieldsAreEncodedAsTheProtobufSpecSays() {
        HexFormat hex = HexFormat.of();
        // https://protobuf.dev/programming-guides/encoding/: 150 in field 1 is 08 96 01
        assertEquals("089601", hex.formatHex(new ProtoWriter().int64(1, 150).toByteArray()));
        // a negative int64 takes ten bytes
        assertEquals("18ffffffffffffffffff01", hex.formatHex(new ProtoWriter().int64(3, -1).toByteArray()));
        // field 20 needs a two-byte tag: (20 << 3) | 0 = 160 -> a0 01
        assertEquals("a00107", hex.formatHex(new ProtoWriter().int64(20, 7).toByteArray()));
        assertEquals(2, ProtoWriter.tagSize(20));
        // 1.0f little-endian after tag (2 << 3) | 5
        assertEquals("150000803f", hex.formatHex(new ProtoWriter().float32(2, 1f).toByteArray()));
        assertEquals("1203616263", hex.formatHex(new ProtoWriter().string(2, "abc").toByteArray()));
        assertEquals(3, ProtoWriter.varintSize(16384));
    }

    /** y = Relu(x + b) over [batch, 3], b streamed as raw_data: ONNX Runtime loads and runs what was written. */
    @Test
    void aHandBuiltGraphRunsInOnnxRuntime() throws Exception {
        OnnxModelWriter g = new OnnxModelWriter("test", 17, "test");
        g.input("x", OnnxModelWriter.FLOAT, "batch", 3);
        g.initializer("b", OnnxModelWriter.FLOAT, new long[] {3}, 12, sink -> {
            sink.putFloat(1f);
            sink.putFloats(new float[] {-10f, 0.5f}, 0, 2);
        });
        g.node("Add", "add", List.of("x", "b"), List.of("sum"));
        g.node("Relu", "relu", List.of("sum"), List.of("y"));
        g.node("ReduceSum", "total", List.of("y"), List.of("z"), Attribute.ofInt("keepdims", 0));
        g.output("y", OnnxModelWriter.FLOAT, "batch", 3);
        g.output("z", OnnxModelWriter.FLOAT);
        Path file = tmp.resolve("add.onnx");
        g.write(file);

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(file.toString(), options);
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 2, 3, -4, 5, 6}), new long[] {2, 3});
             OrtSession.Result result = session.run(Map.of("x", x))) {
            float[][] y = (float[][]) result.get("y").orElseThrow().getValue();
            assertArrayEquals(new float[] {2, 0, 3.5f}, y[0]);
            assertArrayEquals(new float[] {0, 0, 6.5f}, y[1]);
            assertEquals(12f, (float) result.get("z").orElseThrow().getValue());
        }

        try (Arena arena = Arena.ofConfined()) {
            OnnxModel model = OnnxReader.read(file, arena);
            assertEquals(List.of(new OnnxValueInfo("x", OnnxDataType.FLOAT, List.of("batch", "3"))), model.graph().inputs());
            assertArrayEquals(new float[] {1f, -10f, 0.5f}, model.graph().initializers().get("b").toFloatArray());
            OnnxNode total = model.graph().nodes().get(2);
            assertEquals(0, total.attribute("keepdims").i());
        }
    }

    @Test
    void aGraphOverTwoGibIsRefusedBeforeAnythingIsWritten() {
        OnnxModelWriter g = new OnnxModelWriter("huge", 17, "test");
        long elements = 600_000_000L; // 2.4 GB of floats
        g.initializer("w", OnnxModelWriter.FLOAT, new long[] {elements}, elements * 4, sink -> {
            throw new AssertionError("must not start writing");
        });
        Path file = tmp.resolve("huge.onnx");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.write(file));
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void aTensorThatWritesTheWrongByteCountFailsAndLeavesNoFile() throws IOException {
        OnnxModelWriter g = new OnnxModelWriter("short", 17, "test");
        g.initializer("w", OnnxModelWriter.FLOAT, new long[] {4}, 16, sink -> sink.putFloat(1f));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.write(tmp.resolve("short.onnx")));
        assertTrue(e.getMessage().contains("initializer w wrote 4 bytes, declared 16"), e.getMessage());
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void graphMistakesAreCaughtWhenTheNodeIsAdded() {
        OnnxModelWriter g = new OnnxModelWriter("bad", 17, "test");
        g.input("x", OnnxModelWriter.FLOAT, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> g.node("Add", "add", List.of("x", "nowhere"), List.of("y")));
        assertTrue(e.getMessage().contains("'nowhere'"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> g.node("Relu", "relu", List.of("x"), List.of("x")));
        assertTrue(e.getMessage().contains("defined twice"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> g.initializer("w", OnnxModelWriter.FLOAT, new long[] {2, 2}, 12, sink -> { }));
    }
}
