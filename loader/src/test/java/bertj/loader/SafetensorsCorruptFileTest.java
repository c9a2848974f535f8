package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of corrupt file fails in open() with a message naming the file, the tensor and the problem. */
class SafetensorsCorruptFileTest {
    @TempDir Path tmp;

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    /** Opens the file, expecting failure, and checks the message mentions every fragment. */
    private String assertRejected(Path file, String... fragments) {
        var e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file).close());
        String message = e.getMessage();
        assertTrue(message.contains(file.toString()), "file not named: " + message);
        for (String f : fragments) assertTrue(message.contains(f), "\"" + f + "\" not in: " + message);
        return message;
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path file = Files.write(tmp.resolve("short.safetensors"), new byte[] {1, 2, 3});
        assertRejected(file, "3 bytes", "too short");
        assertRejected(Files.write(tmp.resolve("empty.safetensors"), new byte[0]), "0 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() {
        Path file = TestData.rawFile(tmp.resolve("long.safetensors"), 1000, "{}", new byte[0]);
        assertRejected(file, "1000", "truncated");
    }

    @Test
    void absurdHeaderLength() {
        assertRejected(TestData.rawFile(tmp.resolve("huge.safetensors"), 1L << 40, "{}", new byte[0]),
                Long.toString(1L << 40), "limit");
        // a length with the top bit set is reported as the unsigned number the file holds
        assertRejected(TestData.rawFile(tmp.resolve("neg.safetensors"), -1, "{}", new byte[0]),
                "18446744073709551615");
    }

    @Test
    void malformedJson() {
        assertRejected(TestData.rawFile(tmp.resolve("bad.safetensors"), "{\"w\": {\"dtype\": ", 0), "malformed JSON");
        assertRejected(TestData.rawFile(tmp.resolve("trailing.safetensors"), "{} {}", 0), "malformed JSON");
        assertRejected(TestData.rawFile(tmp.resolve("blank.safetensors"), "", 0), "empty");
    }

    @Test
    void headerThatIsNotAnObject() {
        assertRejected(TestData.rawFile(tmp.resolve("array.safetensors"), "[1, 2]", 0), "JSON object", "array");
    }

    @Test
    void duplicateTensorNames() {
        String h = "{" + entry("w", "\"F32\"", "[1]", "[0,4]") + "," + entry("w", "\"F32\"", "[1]", "[4,8]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("dup.safetensors"), h, 8), "Duplicate", "w");
    }

    @Test
    void fieldsOfTheWrongJsonType() {
        Map<String, String> cases = Map.of(
                "{\"w\":[1]}", "entry must be a JSON object",
                "{" + entry("w", "5", "[1]", "[0,4]") + "}", "\"dtype\" must be a string",
                "{" + entry("w", "\"F32\"", "\"1\"", "[0,4]") + "}", "\"shape\" must be an array",
                "{" + entry("w", "\"F32\"", "[1.5]", "[0,4]") + "}", "\"shape\" must hold non-negative integers",
                "{" + entry("w", "\"F32\"", "[1]", "[0]") + "}", "\"data_offsets\" must be an array [begin, end]",
                "{" + entry("w", "\"F32\"", "[1]", "\"0,4\"") + "}", "\"data_offsets\" must be an array [begin, end]",
                "{" + entry("w", "\"F32\"", "[1]", "[0,\"4\"]") + "}", "\"data_offsets\" must hold non-negative integers",
                "{" + entry("w", "\"F32\"", "[99999999999999999999999]", "[0,4]") + "}", "non-negative integers");
        int i = 0;
        for (var c : cases.entrySet()) {
            assertRejected(TestData.rawFile(tmp.resolve("types" + i++ + ".safetensors"), c.getKey(), 4),
                    "tensor \"w\"", c.getValue());
        }
        assertRejected(TestData.rawFile(tmp.resolve("meta.safetensors"), "{\"__metadata__\":{\"format\":1}}", 0),
                "__metadata__", "\"format\"", "must be a string");
    }

    @Test
    void offsetsOutsideTheDataSection() {
        String h = "{" + entry("a", "\"F32\"", "[2]", "[0,8]") + "," + entry("b", "\"F32\"", "[2]", "[8,16]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("range.safetensors"), h, 12),
                "tensor \"b\"", "[8, 16]", "beyond the data section (12 bytes)");
    }

    @Test
    void truncatedFile() throws IOException {
        Path good = tmp.resolve("good.safetensors");
        SafetensorsWriter.write(good, List.of(Tensor.ofFloats("w", new long[] {100}, new float[100])));
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(tmp.resolve("cut.safetensors"), Arrays.copyOf(bytes, bytes.length - 1));
        assertRejected(cut, "tensor \"w\"", "truncated");
    }

    @Test
    void overlappingTensors() {
        String h = "{" + entry("a", "\"F32\"", "[4]", "[0,16]") + "," + entry("b", "\"F32\"", "[2]", "[8,16]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("overlap.safetensors"), h, 16), "\"a\"", "\"b\"", "overlap");
        // listed out of order, the overlap is still found
        String h2 = "{" + entry("c", "\"I64\"", "[1]", "[20,28]") + "," + entry("d", "\"I32\"", "[4]", "[12,28]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("overlap2.safetensors"), h2, 28), "\"c\"", "\"d\"", "overlap");
    }

    @Test
    void byteLengthThatDisagreesWithShapeAndDType() {
        String h = "{" + entry("w", "\"BF16\"", "[3,2]", "[0,24]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("len.safetensors"), h, 24), "tensor \"w\"", "24 bytes", "needs 12");
    }

    @Test
    void offsetsThatEndBeforeTheyBegin() {
        String h = "{" + entry("w", "\"F32\"", "[0]", "[8,4]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("rev.safetensors"), h, 8), "tensor \"w\"", "end before");
    }

    @Test
    void unknownDType() {
        for (String dtype : List.of("F64", "BOOL", "F8_E4M3", "float32")) {
            String h = "{" + entry("w", "\"" + dtype + "\"", "[1]", "[0,8]") + "}";
            assertRejected(TestData.rawFile(tmp.resolve(dtype + ".safetensors"), h, 8),
                    "tensor \"w\"", "unsupported dtype \"" + dtype + "\"", "F32, F16, BF16, I64, I32");
        }
    }

    @Test
    void negativeDimension() {
        String h = "{" + entry("w", "\"F32\"", "[-1,4]", "[0,16]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("negdim.safetensors"), h, 16), "tensor \"w\"", "-1");
    }

    @Test
    void shapeWhoseByteSizeOverflows() {
        String h = "{" + entry("w", "\"F32\"", "[4611686018427387904,4]", "[0,16]") + "}";
        assertRejected(TestData.rawFile(tmp.resolve("overflow.safetensors"), h, 16), "tensor \"w\"", "too large");
    }

    @Test
    void notAFile() {
        assertRejected(tmp.resolve("missing.safetensors"), "not found");
        var e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(tmp));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void emptyTensorsGapsAndPaddingAreAccepted() {
        // empty tensors take no bytes (even inside another's range); unused bytes between tensors are harmless
        String h = "{\"__metadata__\":{\"k\":\"v\"}," + entry("e", "\"F16\"", "[0,7]", "[4,4]") + ","
                + entry("a", "\"F32\"", "[2]", "[0,8]") + "," + entry("b", "\"I32\"", "[1]", "[12,16]") + "}   ";
        try (SafetensorsFile st = SafetensorsFile.open(TestData.rawFile(tmp.resolve("ok.safetensors"), h, 16))) {
            assertEquals(List.of("e", "a", "b"), st.names());
            assertEquals(0, st.tensor("e").elementCount());
            assertArrayEquals(new long[] {0, 7}, st.tensor("e").shape());
            assertArrayEquals(new long[] {0}, st.tensor("b").toLongArray());
            assertEquals(Map.of("k", "v"), st.metadata());
        }
    }
}
