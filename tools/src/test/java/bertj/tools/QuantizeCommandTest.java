package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.kernels.Precision;
import bertj.loader.DType;
import bertj.loader.SafetensorsFile;
import bertj.tokenizer.Encoding;
import bertj.tools.MainTest.Run;
import java.util.Arrays;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code bertj quantize}: the directory it writes loads in its precision and gives the same bits as {@code
 * --precision} on the original; the Linear weights are stored in that dtype, everything else as it was.
 */
class QuantizeCommandTest {
    private static final List<String> TEXTS = List.of("The quick brown fox.", "Jumps over the lazy dog, twice!", "a");

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"BF16", "INT8", "F16"})
    void theQuantizedDirectoryRunsAsThePrecisionDoesOnTheOriginal(Precision precision, @TempDir Path tmp) throws Exception {
        Path original = model("tiny-bert-seqcls");
        Path out = tmp.resolve("quantized");
        Run r = run("", "quantize", original.toString(), out.toString(), "--precision", precision.label());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("in " + precision.label()), r.out());
        assertTrue(Files.isRegularFile(out.resolve("config.json")));

        try (SafetensorsFile file = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            String query = file.names().stream().filter(n -> n.endsWith("layer.0.attention.self.query.weight")).findFirst().orElseThrow();
            DType stored = switch (precision) {
                case BF16 -> DType.BF16;
                case F16 -> DType.F16;
                default -> DType.I8;
            };
            assertEquals(stored, file.tensor(query).dtype());
            assertEquals(precision == Precision.INT8, file.names().contains(query + "_scale"));
            String embeddings = file.names().stream().filter(n -> n.endsWith("word_embeddings.weight")).findFirst().orElseThrow();
            assertEquals(DType.F32, file.tensor(embeddings).dtype());
        }

        float[][] expected, fromDirectory, asFloat32;
        try (Bert bert = Bert.load(original, precision)) {
            expected = logits(bert);
        }
        try (Bert bert = Bert.load(out)) { // f16 runs as fp32 by default, on the same values
            assertEquals(precision == Precision.F16 ? Precision.FP32 : precision, bert.model().precision());
            fromDirectory = logits(bert);
        }
        try (Bert bert = Bert.load(out, Precision.FP32)) { // the stored weights widened: the same floats
            asFloat32 = logits(bert);
        }
        float[][] full;
        try (Bert bert = Bert.load(original)) {
            full = logits(bert);
        }
        for (int i = 0; i < TEXTS.size(); i++) {
            assertArrayEquals(expected[i], fromDirectory[i], TEXTS.get(i));
            assertArrayEquals(expected[i], asFloat32[i], TEXTS.get(i));
            assertNotEquals(Arrays.toString(full[i]), Arrays.toString(expected[i]), "rounding changed something");
        }
    }

    @Test
    void refusesAnExistingDirectoryAndFp32(@TempDir Path tmp) throws Exception {
        Path original = model("tiny-bert");
        Files.writeString(tmp.resolve("keep.txt"), "mine");
        Run existing = run("", "quantize", original.toString(), tmp.toString(), "--precision", "int8");
        assertEquals(1, existing.exitCode());
        assertEquals("bertj: " + tmp + ": exists and is not empty; give a new directory\n", existing.err());
        assertEquals("mine", Files.readString(tmp.resolve("keep.txt")));
        Run fp32 = run("", "quantize", original.toString(), tmp.resolve("new").toString(), "--precision", "fp32");
        assertEquals(1, fp32.exitCode());
        assertTrue(fp32.err().contains("bf16, f16 or int8"), fp32.err());
        Run bad = run("", "quantize", original.toString(), tmp.resolve("new").toString(), "--precision", "fp16");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("fp32, bf16, int8 or f16"), bad.err());
    }

    private static float[][] logits(Bert bert) {
        float[][] out = new float[TEXTS.size()][];
        for (int i = 0; i < TEXTS.size(); i++) {
            Encoding encoding = bert.tokenizer().encode(TEXTS.get(i));
            out[i] = bert.sequenceLogits(BertInput.of(encoding.ids(), encoding.typeIds()))[0];
        }
        return out;
    }
}
