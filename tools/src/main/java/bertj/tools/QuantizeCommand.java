package bertj.tools;

import bertj.kernels.Precision;
import bertj.kernels.reference.WeightRounding;
import bertj.loader.BertCheckpoint;
import bertj.loader.Checkpoint;
import bertj.loader.DType;
import bertj.loader.ModelDirectory;
import bertj.loader.OutputDirectory;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bertj quantize MODEL OUT_DIR --precision bf16|f16|int8}: the model directory again, its encoder's Linear
 * weights (query, key, value, the attention output, intermediate and output denses, the pooler) rounded as
 * {@link WeightRounding} defines, everything else as it was:
 * <ul>
 *   <li>bf16 and f16: the weights as BF16 or F16 tensors;
 *   <li>int8: the weights as I8 tensors, each with {@code <name>_scale}, F32 {@code [out]}: row r stands for
 *       {@code q[r, :] * scale[r]}.
 * </ul>
 * Embeddings, LayerNorms, biases and heads stay as they are. The other files (config, tokenizer, pooling) are
 * copied. bertj loads the result in that precision by default (f16 as fp32 on the same values), with the same
 * outputs as {@code --precision} gives on the original; {@code transformers} reads the bf16 and f16 directories, not the int8 one.
 */
@Command(name = "quantize", description = "Write the model with its Linear weights in bf16, f16 or int8, as a model "
        + "directory that bertj loads directly.")
final class QuantizeCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
    String model;

    @Parameters(index = "1", paramLabel = "OUT_DIR", description = "The directory to write; must not exist, or be empty.")
    Path out;

    @Option(names = "--precision", required = true, paramLabel = "P", converter = PrecisionOption.Parse.class,
            description = "bf16, f16 or int8.")
    Precision precision;

    @Override
    public Integer call() throws IOException {
        if (precision == Precision.FP32) {
            throw new IllegalArgumentException("--precision: quantize writes bf16, f16 or int8; fp32 is the model as it is");
        }
        Path source = ModelArgument.resolve(model);
        OutputDirectory.requireAbsentOrEmpty(out);
        long start = System.nanoTime();
        try (ModelDirectory dir = ModelDirectory.open(source); Arena arena = Arena.ofConfined()) {
            BertCheckpoint bert = dir.bertCheckpoint();
            Checkpoint checkpoint = bert.checkpoint();
            Set<String> linears = new HashSet<>();
            for (String name : BertCheckpoint.bertModelNames(bert.config(), bert.hasPooler())) {
                if (BertCheckpoint.isLinearWeight(name)) bert.resolve(name).ifPresent(linears::add);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long rounded = 0;
            for (String name : checkpoint.names()) {
                if (name.endsWith(BertCheckpoint.INT8_SCALE_SUFFIX) && linears.contains(
                        name.substring(0, name.length() - BertCheckpoint.INT8_SCALE_SUFFIX.length()))) {
                    continue; // written with its weight, or dropped if that is no longer int8
                }
                Tensor t = checkpoint.tensor(name);
                if (!linears.contains(name)) {
                    tensors.put(name, t);
                    continue;
                }
                float[] values = t.dtype() == DType.I8
                        ? t.dequantizeInt8(bert.int8Scale(canonical(name), t.dim(0)), arena).toArray(ValueLayout.JAVA_FLOAT)
                        : t.toFloatArray();
                tensors.putAll(rounded(name, t.shape(), values, precision, arena));
                rounded++;
            }
            OutputDirectory.write(out, staging -> {
                copyOtherFiles(source, staging);
                SafetensorsWriter.write(staging.resolve(Checkpoint.SINGLE_FILE), tensors.values(),
                        Map.of("format", "pt", "bertj_precision", precision.label()));
                return null;
            });
            out().printf(Locale.ROOT, "wrote %s: %d Linear weights in %s, in %d ms%n", out, rounded, precision.label(),
                    (System.nanoTime() - start) / 1_000_000);
        }
        return Main.OK;
    }

    /** The canonical name of a stored one ({@code bert.} dropped). */
    private static String canonical(String stored) {
        return stored.startsWith("bert.") ? stored.substring("bert.".length()) : stored;
    }

    /** The weight {@code [rows, cols]} in {@code precision}: one BF16 or F16 tensor, or an I8 tensor and its scales. */
    static Map<String, Tensor> rounded(String name, long[] shape, float[] values, Precision precision, Arena arena) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        if (precision == Precision.BF16 || precision == Precision.F16) {
            boolean bf16 = precision == Precision.BF16;
            short[] bits = new short[values.length];
            try {
                for (int i = 0; i < values.length; i++) bits[i] = bf16 ? WeightRounding.toBf16(values[i]) : WeightRounding.toF16(values[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tensor \"" + name + "\": " + e.getMessage(), e);
            }
            out.put(name, Tensor.ofHalfBits(name, bf16 ? DType.BF16 : DType.F16, shape, bits));
            return out;
        }
        int rows = (int) shape[0], cols = (int) shape[1];
        float[] scales = new float[rows];
        MemorySegment q = arena.allocate(values.length);
        for (int r = 0; r < rows; r++) {
            scales[r] = WeightRounding.int8Scale(values, r * cols, (r + 1) * cols);
            if (!Float.isFinite(scales[r])) {
                throw new IllegalArgumentException("tensor \"" + name + "\" holds a weight that is not finite in row " + r
                        + ": int8 needs finite weights");
            }
            for (int c = r * cols; c < (r + 1) * cols; c++) q.set(ValueLayout.JAVA_BYTE, c, WeightRounding.toInt8(values[c], scales[r]));
        }
        out.put(name, Tensor.of(name, DType.I8, shape, q));
        out.put(name + BertCheckpoint.INT8_SCALE_SUFFIX, Tensor.ofFloats(name + BertCheckpoint.INT8_SCALE_SUFFIX, new long[] {rows}, scales));
        return out;
    }

    /** Every file of the model directory but its weights, with the same relative paths. */
    private static void copyOtherFiles(Path source, Path target) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(source)) {
            walk.filter(Files::isRegularFile).forEach(files::add);
        }
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE) || name.endsWith(".bin")
                    || name.endsWith(".onnx") || name.endsWith(".h5") || name.endsWith(".msgpack")
                    || name.endsWith(".ot")) {
                continue;
            }
            Path to = target.resolve(source.relativize(file).toString());
            Files.createDirectories(to.getParent());
            Files.copy(file, to);
        }
    }
}
