package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir Path tmp;

    private static List<Tensor> oneOfEachDType() {
        return List.of(
                Tensor.ofFloats("f32", new long[] {2, 3}, new float[] {0f, -1.5f, 3.25f, Float.MIN_VALUE, Float.NaN, -0f}),
                Tensor.ofHalfBits("f16", DType.F16, new long[] {5}, new short[] {0x3C00, 0x0001, 0x7C00, 0x7E00, (short) 0x8000}),
                Tensor.ofHalfBits("bf16", DType.BF16, new long[] {1, 3}, new short[] {0x3F80, (short) 0xFF80, 0x0001}),
                Tensor.ofLongs("i64", new long[] {3}, new long[] {Long.MIN_VALUE, 0, 101}),
                Tensor.ofInts("i32", new long[] {2, 1, 2}, new int[] {1, -2, 3, Integer.MAX_VALUE}),
                Tensor.ofFloats("empty", new long[] {0, 4}, new float[0]),
                Tensor.ofFloats("scalar", new long[] {}, new float[] {42f}));
    }

    @Test
    void everyDTypeRoundTripsBitForBit() {
        Path file = tmp.resolve("all.safetensors");
        List<Tensor> written = oneOfEachDType();
        SafetensorsWriter.write(file, written, Map.of("format", "pt", "note", "ünïcode"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcode"), st.metadata());
            assertEquals(written.stream().map(Tensor::name).toList(), st.names());
            for (Tensor w : written) {
                Tensor r = st.tensor(w.name());
                assertEquals(w.dtype(), r.dtype(), w.name());
                assertArrayEquals(w.shape(), r.shape(), w.name());
                assertArrayEquals(w.data().toArray(ValueLayout.JAVA_BYTE), r.data().toArray(ValueLayout.JAVA_BYTE), w.name());
                assertTrue(r.data().isReadOnly());
            }
            assertArrayEquals(new long[] {Long.MIN_VALUE, 0, 101}, st.tensor("i64").toLongArray());
            assertEquals(1f, st.tensor("f16").toFloatArray()[0]);
            assertEquals(Float.NEGATIVE_INFINITY, st.tensor("bf16").toFloatArray()[1]);
        }
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEight() throws IOException {
        Path file = tmp.resolve("pad.safetensors");
        SafetensorsWriter.write(file, oneOfEachDType());
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), header);
        assertEquals(header.strip(), header.substring(0, header.strip().length()));
        assertTrue(header.substring(header.strip().length()).chars().allMatch(c -> c == ' '));
        assertTrue(header.length() - header.strip().length() < 8);
    }

    /**
     * The fixture was written by Python's safetensors; rewriting its tensors in the same order must give the
     * same bytes, which pins the writer to the reference format (compact JSON, space padding, offsets).
     */
    @Test
    void rewritingAFileFromThePythonLibraryReproducesItExactly() throws IOException {
        Path original = TestData.model("tiny-bert-bf16-sharded-legacy").resolve("model-00002-of-00002.safetensors");
        Path copy = tmp.resolve("copy.safetensors");
        try (SafetensorsFile st = SafetensorsFile.open(original)) {
            SafetensorsWriter.write(copy, st.tensors(), st.metadata());
        }
        assertArrayEquals(Files.readAllBytes(original), Files.readAllBytes(copy));
    }

    @Test
    void writerRejectsDuplicateNamesAndLeavesNoFileBehind() {
        Path file = tmp.resolve("dup.safetensors");
        List<Tensor> tensors = new ArrayList<>(oneOfEachDType());
        tensors.add(Tensor.ofFloats("f32", new long[] {1}, new float[] {1}));
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(file, tensors));
        assertTrue(e.getMessage().contains("f32"), e.getMessage());
        assertTrue(Files.notExists(file));
    }

    @Test
    void writerReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path file = tmp.resolve("m.safetensors");
        SafetensorsWriter.write(file, List.of(Tensor.ofFloats("a", new long[] {1}, new float[] {1})));
        SafetensorsWriter.write(file, List.of(Tensor.ofFloats("b", new long[] {2}, new float[] {2, 3})));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of("b"), st.names());
            assertArrayEquals(new float[] {2, 3}, st.tensor("b").toFloatArray());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void tensorsFromAClosedFileAreUnusable() {
        Path file = tmp.resolve("c.safetensors");
        SafetensorsWriter.write(file, oneOfEachDType());
        SafetensorsFile st = SafetensorsFile.open(file);
        Tensor t = st.tensor("f32");
        st.close();
        st.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> st.tensor("f32"));
        assertThrows(IllegalStateException.class, t::toFloatArray);
    }

    @Test
    void missingTensorIsReportedWithTheFileName() {
        Path file = tmp.resolve("m.safetensors");
        SafetensorsWriter.write(file, oneOfEachDType());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            var e = assertThrows(ModelFormatException.class, () -> st.tensor("nope"));
            assertTrue(e.getMessage().contains("\"nope\"") && e.getMessage().contains("m.safetensors"), e.getMessage());
            assertTrue(st.find("nope").isEmpty());
        }
    }
}
