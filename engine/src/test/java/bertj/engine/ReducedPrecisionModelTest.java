package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.kernels.Precision;
import bertj.loader.DType;
import bertj.loader.SafetensorsFile;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A whole model with bf16 or int8 Linear weights: the SIMD kernels against the reference kernels on the same
 * rounded weights (the reference rounds them as the packing does), within the fp32 parity tolerance, while the
 * rounding itself moves the outputs from fp32's by far more. A BF16 checkpoint loads as bf16 by default. An F16 one
 * loads as fp32 (its weights widened exactly), and run from its own bits (f16) it gives the same outputs.
 */
class ReducedPrecisionModelTest {
    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"BF16", "INT8", "F16"})
    void theSimdKernelsMatchTheReferenceOnTheSameRoundedWeights(Precision precision) {
        try (Reference ref = new Reference("tiny-bert");
             BertModel fast = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.VECTOR, precision);
             BertModel reference = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.SCALAR, precision);
             BertModel full = BertModel.load(ref.modelDir, BertModelParityTest.POOL, KernelMode.VECTOR, Precision.FP32)) {
            assertEquals(precision, fast.precision());
            for (String batch : ref.batches()) {
                float[][][] ours = fast.forward(ref.input(batch)).lastHiddenState();
                double fromReference = maxAbsDiff(reference.forward(ref.input(batch)).lastHiddenState(), ours);
                double fromFp32 = maxAbsDiff(full.forward(ref.input(batch)).lastHiddenState(), ours);
                assertTrue(fromReference <= BertModelParityTest.TOLERANCE, precision + " " + batch + ": " + fromReference);
                assertTrue(fromFp32 > 10 * BertModelParityTest.TOLERANCE, precision + " " + batch + " moved only " + fromFp32);
            }
        }
    }

    private static double maxAbsDiff(float[][][] a, float[][][] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                for (int k = 0; k < a[i][j].length; k++) worst = Math.max(worst, Math.abs(a[i][j][k] - b[i][j][k]));
            }
        }
        return worst;
    }

    @Test
    void anF16CheckpointRunsFromItsOwnBitsWithTheOutputsOfFloat32(@TempDir Path dir) throws IOException {
        try (Reference ref = new Reference("tiny-bert")) {
            // tiny-bert with every float tensor stored as float16, as many Hub checkpoints are
            try (Stream<Path> files = Files.list(ref.modelDir)) {
                for (Path f : files.toList()) {
                    if (Files.isRegularFile(f) && !f.getFileName().toString().endsWith(".safetensors")) Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
            List<Tensor> tensors = new ArrayList<>();
            try (SafetensorsFile weights = SafetensorsFile.open(ref.modelDir.resolve("model.safetensors"))) {
                for (String name : weights.names()) {
                    Tensor t = weights.tensor(name);
                    if (t.dtype() != DType.F32) {
                        tensors.add(copy(t));
                        continue;
                    }
                    float[] values = t.toFloatArray();
                    short[] bits = new short[values.length];
                    for (int i = 0; i < values.length; i++) bits[i] = Float.floatToFloat16(values[i]);
                    tensors.add(Tensor.ofHalfBits(name, DType.F16, t.shape(), bits));
                }
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
            try (BertModel f16 = BertModel.load(dir, BertModelParityTest.POOL, KernelMode.VECTOR, Precision.F16);
                 BertModel widened = BertModel.load(dir, BertModelParityTest.POOL, KernelMode.VECTOR, null)) {
                assertEquals(Precision.FP32, widened.precision(), "an F16 checkpoint runs as fp32 by default");
                for (String batch : ref.batches()) {
                    float[][][] a = f16.forward(ref.input(batch)).lastHiddenState(), b = widened.forward(ref.input(batch)).lastHiddenState();
                    for (int i = 0; i < a.length; i++) {
                        for (int j = 0; j < a[i].length; j++) assertArrayEquals(b[i][j], a[i][j], batch + " [" + i + "][" + j + "]");
                    }
                }
            }
        }
    }

    /** The tensor with its data on the heap, so that it outlives the file it was read from. */
    private static Tensor copy(Tensor t) {
        return Tensor.of(t.name(), t.dtype(), t.shape(), MemorySegment.ofArray(t.data().toArray(ValueLayout.JAVA_BYTE)));
    }

    @ParameterizedTest
    @EnumSource(KernelMode.class)
    void aBf16CheckpointLoadsAsBf16(KernelMode mode) {
        try (Reference ref = new Reference("tiny-bert-bf16-sharded-legacy");
             BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL, mode, null)) {
            assertEquals(Precision.BF16, model.precision());
        }
    }
}
