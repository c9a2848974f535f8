package bertj.bench;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.KernelMode;
import bertj.engine.Pooling;
import bertj.kernels.Precision;
import bertj.kernels.ThreadPool;
import bertj.loader.PoolingConfig;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How far reduced-precision weights move a model's outputs from float32's, on a JSON Lines corpus: per precision,
 * the least and the mean cosine between each text's sentence embedding (the model's pooling and normalisation)
 * and float32's, and the largest absolute difference of {@code last_hidden_state} over all real tokens.
 * Optionally the same figures for ONNX Runtime's quantized model against its float32 one, on the same batches.
 *
 * <p>Texts are tokenized by bertj (truncated to the model's length), sorted by length and run in padded batches
 * of 32 ({@link PaddedBatches}), the same batches for every engine. JSON lines: the corpus once, then one per
 * precision ({@code "engine":"bertj"}) and one for ONNX Runtime's quantized model.
 */
public final class PrecisionAccuracy {
    /**
     * @param model       a model directory bertj loads
     * @param corpus      JSON Lines, {@code {"text": ...}} per line
     * @param precisions  the reduced precisions to compare with fp32
     * @param onnx        the model as float32 ONNX, or null
     * @param onnxReduced the same model quantized (e.g. a {@code -q} export), or null
     * @param threads     threads of both engines
     */
    public record Options(Path model, Path corpus, List<Precision> precisions, Path onnx, Path onnxReduced, int threads) {
        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(corpus, "corpus");
            precisions = List.copyOf(precisions);
            if (precisions.isEmpty()) throw new IllegalArgumentException("--precision: give at least one precision");
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            if (!Files.isRegularFile(corpus)) throw new IllegalArgumentException(corpus + ": no such corpus file");
            if ((onnx == null) != (onnxReduced == null)) {
                throw new IllegalArgumentException("give both --onnxruntime and --onnxruntime-reduced, or neither");
            }
            for (Path p : Arrays.asList(onnx, onnxReduced)) {
                if (p != null && !Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": no such ONNX file");
            }
        }
    }

    private PrecisionAccuracy() {
    }

    /** One engine's last_hidden_state of a padded batch, row-major [batch, seq, hidden]. */
    @FunctionalInterface
    private interface Forward {
        float[] lastHiddenState(BertInput input) throws Exception;
    }

    /** Least and summed cosine, largest difference, over the texts seen so far. */
    private static final class Distance {
        double minCosine = Double.POSITIVE_INFINITY, sumCosine, maxAbsDiff;
        int texts, worstText;

        void add(int text, double cosine) {
            if (!(cosine >= minCosine)) { // NaN is the worst
                minCosine = cosine;
                worstText = text;
            }
            sumCosine += cosine;
            texts++;
        }
    }

    public static void run(Options options, PrintWriter out) throws Exception {
        List<String> texts = CorpusBench.readTexts(options.corpus());
        try (ThreadPool pool = new ThreadPool(options.threads());
             Bert reference = Bert.load(options.model(), pool, KernelMode.VECTOR, Precision.FP32)) {
            List<Encoding> encodings = reference.tokenizer().encodeBatch(texts, null,
                    EncodeOptions.DEFAULT.withTruncation(EncodeOptions.Truncation.LONGEST_FIRST, reference.maxLength()));
            PaddedBatches batches = PaddedBatches.of(encodings, reference.tokenizer().padTokenId());
            PoolingConfig pooling = reference.defaultPooling();
            Pooling mode = Pooling.valueOf(pooling.mode().name());
            SideBySide.print(out, SideBySide.line().put("corpus", options.corpus().toString()).put("texts", texts.size())
                    .put("tokens", encodings.stream().mapToLong(Encoding::length).sum()).put("pooling", mode.name())
                    .put("normalize", pooling.normalize()));
            Forward fp32 = input -> SideBySide.flatten(reference.model().forward(input).lastHiddenState());
            for (Precision precision : options.precisions()) {
                try (Bert reduced = Bert.load(options.model(), pool, KernelMode.VECTOR, precision)) {
                    Distance d = compare(batches, fp32, input -> SideBySide.flatten(reduced.model().forward(input).lastHiddenState()),
                            mode, pooling.normalize());
                    print(out, "bertj", precision.label(), d);
                }
            }
            if (options.onnx() != null) {
                try (SideBySide.OrtRunner full = SideBySide.OrtRunner.open(options.onnx(), options.threads(), out);
                     SideBySide.OrtRunner quantized = SideBySide.OrtRunner.open(options.onnxReduced(), options.threads(), out)) {
                    Distance d = compare(batches, full::run, quantized::run, mode, pooling.normalize());
                    print(out, "onnxruntime", options.onnxReduced().getFileName().toString(), d);
                }
            }
        }
    }

    private static void print(PrintWriter out, String engine, String precision, Distance d) {
        SideBySide.print(out, SideBySide.line().put("engine", engine).put("precision", precision).put("against", "fp32")
                .put("texts", d.texts).put("min_cosine", d.minCosine).put("mean_cosine", d.sumCosine / d.texts)
                .put("worst_text", d.worstText + 1).put("max_abs_diff_last_hidden_state", d.maxAbsDiff));
    }

    /** Runs every batch through both engines and measures how far {@code other} is from {@code base}. */
    private static Distance compare(PaddedBatches batches, Forward base, Forward other, Pooling mode, boolean normalize)
            throws Exception {
        Distance d = new Distance();
        for (PaddedBatches.Batch batch : batches.batches()) {
            BertInput input = batch.input();
            float[] a = base.lastHiddenState(input), b = other.lastHiddenState(input);
            if (a.length != b.length || a.length % input.tokens() != 0) {
                throw new IllegalStateException("the engines' last_hidden_state have " + a.length + " and " + b.length
                        + " values for " + input.tokens() + " tokens");
            }
            int seq = input.seqLen(), width = a.length / input.tokens();
            int[] mask = input.attentionMask();
            for (int s = 0; s < input.batch(); s++) {
                for (int t = 0; t < seq; t++) {
                    if (mask[s * seq + t] == 0) continue;
                    for (int j = (s * seq + t) * width, end = j + width; j < end; j++) {
                        double diff = Math.abs(a[j] - b[j]);
                        if (!(diff <= d.maxAbsDiff)) d.maxAbsDiff = diff;
                    }
                }
                int[] rowMask = Arrays.copyOfRange(mask, s * seq, (s + 1) * seq);
                float[] va = mode.pool(PaddedBatches.rows(a, s, seq, width), rowMask);
                float[] vb = mode.pool(PaddedBatches.rows(b, s, seq, width), rowMask);
                if (normalize) {
                    va = Pooling.normalize(va);
                    vb = Pooling.normalize(vb);
                }
                d.add(batch.indices()[s], Pooling.cosine(va, vb));
            }
        }
        return d;
    }
}
