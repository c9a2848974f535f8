package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.engine.Pooling;
import bertj.loader.DefaultModel;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bertj against ONNX Runtime on the default model, live: the real all-minilm-l6-v2.onnx from the Maven Central jar
 * (bertj.defaultModelSource) run by ONNX Runtime, and bertj on the model converted from it, given the same ids,
 * type ids and mask. Also against ONNX Runtime 1.20's stored outputs (test resource {@code minilm/}).
 *
 * <p>Tolerances: last_hidden_state and pooler_output within 1e-4 absolute, padded positions included; sentence
 * embeddings (mean over real tokens, L2-normalised, as sentence-transformers makes them for this model) with
 * cosine >= 0.99999, and within 1e-5 absolute of the stored ones.
 */
class OnnxRuntimeParityTest {
    static final double HIDDEN_TOLERANCE = 1e-4;
    /**
     * Padded positions of a mostly-padding sequence are ill-conditioned in float32: in the padded batch below
     * (8 x 92, "a" is 3 tokens), against bertj's double-accumulating scalar twin, bertj's SIMD kernels are 9.9e-5
     * off there and ONNX Runtime 1.3e-4 (on real tokens 5.1e-6 and 2.5e-6), so the two float32 engines differ by
     * 1.7e-4; ONNX Runtime disagrees with itself by 1.2e-4 between its ALL_OPT and NO_OPT graphs. A wrong mask is
     * off by far more.
     */
    static final double PADDED_TOLERANCE = 2.5e-4;
    static final double MIN_COSINE = 0.99999;
    static final double EMBEDDING_TOLERANCE = 1e-5;

    /** Singles: English, punctuation, numbers, accents, other scripts, emoji, edge cases, a ~200-token text. */
    static final List<String> TEXTS = List.of(
            "A man is playing a guitar.",
            "Someone is making music.",
            "The new movie is awesome.",
            "The cat sits outside.",
            "Hello, world!",
            "What's up?!? ... (really) -- yes; no: maybe.",
            "It costs $1,234.56 (approx. 10% off) on 2024-05-01 at 9:30am.",
            "e-mail me at john.doe@example.com or visit https://example.org/a?b=c&d=e",
            "Café déjà vu — naïve façade, 10 € please.",
            "Über die Brücke gehen Mädchen und Jungen.",
            "El niño comió paella en España.",
            "Ça va très bien, merci !",
            "東京は日本の首都です。",
            "我喜欢学习自然语言处理。",
            "한국어 문장도 처리할 수 있나요?",
            "Привет, как дела?",
            "مرحبا بالعالم",
            "नमस्ते दुनिया",
            "Ελληνικά γράμματα",
            "I love pizza 🍕 and coffee ☕!",
            "🎉🎉🎉",
            "Family: 👨‍👩‍👧‍👦 (a ZWJ sequence)",
            "UPPER lower MiXeD CaSe",
            "a",
            "",
            "   leading and trailing spaces   ",
            "tab\tseparated\nnew line",
            "Unbelievably, the tokenization of hyperparameterization works.",
            "antidisestablishmentarianism supercalifragilisticexpialidocious",
            "1 2 3 4 5 6 7 8 9 10 3.14159 2.71828",
            "<html><body>Tags & entities &amp; stuff</body></html>",
            "The quick brown fox jumps over the lazy dog. ".repeat(20).strip());

    /** Pairs: segment B gets token type 1. */
    static final List<List<String>> PAIRS = List.of(
            List.of("What is the capital of France?", "The capital of France is Paris."),
            List.of("A man is playing a guitar.", "Someone is making music."),
            List.of("Is it raining?", "Yes — it's pouring 🌧 outside, ça alors!"));

    static OrtEnvironment env;
    static OrtSession session;
    static Bert bert;
    static String lastHiddenName, poolerName;

    @BeforeAll
    static void load() throws Exception {
        String source = System.getProperty("bertj.defaultModelSource");
        assertNotNull(source, "the tools pom sets bertj.defaultModelSource for tests");
        byte[] onnx;
        try (ZipFile jar = new ZipFile(source); InputStream in = jar.getInputStream(jar.getEntry(DefaultModel.ONNX_ENTRY))) {
            onnx = in.readAllBytes();
        }
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            session = env.createSession(onnx, options);
        }
        bert = Bert.load(ModelArgument.resolve("default"));

        assertEquals(Set.of("input_ids", "attention_mask", "token_type_ids"), session.getInputNames());
        // The torch export names its outputs output_0 and 882; tell them apart by rank.
        for (Map.Entry<String, NodeInfo> output : session.getOutputInfo().entrySet()) {
            long[] shape = ((TensorInfo) output.getValue().getInfo()).getShape();
            if (shape.length == 3) lastHiddenName = output.getKey();
            if (shape.length == 2) poolerName = output.getKey();
        }
        assertNotNull(lastHiddenName, "a [batch, seq, hidden] output");
        assertNotNull(poolerName, "a [batch, hidden] output");
    }

    @AfterAll
    static void close() throws OrtException {
        if (bert != null) bert.close();
        if (session != null) session.close();
    }

    /** ONNX Runtime's outputs for a padded batch, flattened: [batch * seq * hidden] and [batch * hidden]. */
    record Outputs(float[] lastHidden, float[] pooler) {
    }

    static Outputs onnxRuntime(BertInput input) throws OrtException {
        long[] shape = {input.batch(), input.seqLen()};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.inputIds())), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.attentionMask())), shape));
            inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.tokenTypeIds())), shape));
            try (OrtSession.Result result = session.run(inputs)) {
                return new Outputs(floats(result.get(lastHiddenName).orElseThrow()), floats(result.get(poolerName).orElseThrow()));
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private static float[] floats(ai.onnxruntime.OnnxValue value) {
        FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    /** Largest differences, on real tokens and on padded positions apart, plus the pooler and embedding figures. */
    static final class Diffs {
        double real, padded, pooler, embedding, minCosine = 1;
        /** ONNX Runtime's sentence embeddings, one per sequence of the batch. */
        float[][] ortEmbeddings;

        void hidden(double diff, boolean isReal) {
            if (isReal) real = Math.max(real, diff);
            else padded = Math.max(padded, diff);
        }

        @Override
        public String toString() {
            return String.format("last_hidden_state max abs diff %.3g on real tokens, %.3g on padded positions; "
                    + "pooler_output %.3g; embedding max abs diff %.3g, min cosine %.9f", real, padded, pooler, embedding, minCosine);
        }
    }

    /** Compares bertj's forward pass on {@code input} with ONNX Runtime's; sentence embeddings pooled from each. */
    static Diffs compare(BertInput input) throws OrtException {
        Outputs ort = onnxRuntime(input);
        BaseModelOutputWithPooling ours = bert.model().forward(input);
        int hidden = bert.model().config().hiddenSize();
        Diffs d = new Diffs();
        d.ortEmbeddings = new float[input.batch()][];
        for (int b = 0; b < input.batch(); b++) {
            int[] mask = Arrays.copyOfRange(input.attentionMask(), b * input.seqLen(), (b + 1) * input.seqLen());
            float[][] ortTokens = new float[input.seqLen()][hidden];
            for (int t = 0; t < input.seqLen(); t++) {
                for (int i = 0; i < hidden; i++) {
                    float expected = ort.lastHidden()[((b * input.seqLen()) + t) * hidden + i];
                    ortTokens[t][i] = expected;
                    d.hidden(Math.abs(expected - ours.lastHiddenState()[b][t][i]), mask[t] != 0);
                }
            }
            for (int i = 0; i < hidden; i++) d.pooler = Math.max(d.pooler, Math.abs(ort.pooler()[b * hidden + i] - ours.poolerOutput()[b][i]));
            float[] expected = d.ortEmbeddings[b] = Pooling.normalize(Pooling.MEAN.pool(ortTokens, mask));
            float[] actual = Pooling.normalize(Pooling.MEAN.pool(ours.lastHiddenState()[b], mask));
            d.embedding = Math.max(d.embedding, maxAbsDiff(expected, actual));
            d.minCosine = Math.min(d.minCosine, Pooling.cosine(expected, actual));
        }
        return d;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    static void assertWithinTolerances(Diffs d, String what) {
        assertTrue(d.real <= HIDDEN_TOLERANCE, what + ": " + d);
        assertTrue(d.padded <= PADDED_TOLERANCE, what + ": " + d);
        assertTrue(d.pooler <= HIDDEN_TOLERANCE, what + ": " + d);
        assertTrue(d.minCosine >= MIN_COSINE, what + ": " + d);
    }

    static BertInput input(List<Encoding> encodings) {
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (Encoding e : encodings) {
            ids.add(e.ids());
            types.add(e.typeIds());
        }
        return BertInput.padded(ids, types, bert.tokenizer().padTokenId());
    }

    /** No truncation: the default model's tokenizer.json would otherwise cut at 128 tokens. */
    static Encoding encode(String text, String pair) {
        return bert.tokenizer().encode(text, pair, EncodeOptions.DEFAULT);
    }

    /**
     * Every text and pair, in batches of similar length (little padding, as Bert.embed batches them; one forward pass
     * per text would take most of the test's time); then Bert.embed on the texts against ONNX Runtime's outputs pooled.
     */
    @Test
    void variedTextsMatchOnnxRuntime() throws OrtException {
        List<Encoding> sequences = new ArrayList<>();
        for (String text : TEXTS) sequences.add(encode(text, null));
        for (List<String> pair : PAIRS) sequences.add(encode(pair.get(0), pair.get(1)));
        assertTrue(sequences.size() >= 30);
        assertTrue(sequences.get(TEXTS.size() - 1).length() >= 200, "the long text is about 200 tokens");

        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < sequences.size(); i++) order.add(i);
        order.sort(java.util.Comparator.comparingInt(i -> sequences.get(i).length()));
        Diffs all = new Diffs();
        float[][] ortEmbeddings = new float[sequences.size()][];
        int batches = 0;
        for (int from = 0; from < order.size(); batches++) {
            int to = from + 1, shortest = sequences.get(order.get(from)).length();
            while (to < order.size() && to - from < 12 && sequences.get(order.get(to)).length() <= 2 * shortest + 4) to++;
            List<Integer> batch = order.subList(from, to);
            Diffs d = compare(input(batch.stream().map(sequences::get).toList()));
            assertWithinTolerances(d, "batch " + batch.stream().map(i -> i < TEXTS.size() ? TEXTS.get(i) : PAIRS.get(i - TEXTS.size()).toString()).toList());
            merge(all, d);
            for (int b = 0; b < batch.size(); b++) ortEmbeddings[batch.get(b)] = d.ortEmbeddings[b];
            from = to;
        }
        System.out.println("[parity] bertj vs ONNX Runtime, " + sequences.size() + " sequences in " + batches + " batches of similar length: " + all);

        // Bert.embed: the model's own pooling (mean) and normalisation, with its own batching. The long text on its
        // own: Bert.embed batches up to 32 texts together, and padding all of them to 200 tokens is slow.
        float[][] ours = new float[TEXTS.size()][];
        System.arraycopy(bert.embed(TEXTS.subList(0, TEXTS.size() - 1)), 0, ours, 0, TEXTS.size() - 1);
        ours[TEXTS.size() - 1] = bert.embed(TEXTS.getLast());
        double maxDiff = 0, minCosine = 1;
        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(bert.model().config().hiddenSize(), ours[i].length);
            maxDiff = Math.max(maxDiff, maxAbsDiff(ortEmbeddings[i], ours[i]));
            double cosine = Pooling.cosine(ortEmbeddings[i], ours[i]);
            minCosine = Math.min(minCosine, cosine);
            assertTrue(cosine >= MIN_COSINE, "\"" + TEXTS.get(i) + "\": cosine " + cosine);
        }
        System.out.printf("[parity] Bert.embed vs ONNX Runtime (mean, normalized), %d texts: max abs diff %.3g, min cosine %.9f%n",
                TEXTS.size(), maxDiff, minCosine);
    }

    @Test
    void aPaddedBatchMatchesOnnxRuntimeOnRealAndPaddedPositions() throws OrtException {
        List<Encoding> batch = new ArrayList<>();
        for (String text : List.of("a", "Hello, world!", "Café déjà vu — naïve façade, 10 € please.", "東京は日本の首都です。",
                "I love pizza 🍕 and coffee ☕!", "The quick brown fox jumps over the lazy dog. ".repeat(9).strip(), "")) {
            batch.add(encode(text, null));
        }
        batch.add(encode(PAIRS.get(0).get(0), PAIRS.get(0).get(1)));
        BertInput input = input(batch);
        assertTrue(input.length(0) < input.seqLen() / 10, "short sequences are mostly padding");
        Diffs d = compare(input);
        assertWithinTolerances(d, "padded batch");
        System.out.println("[parity] bertj vs ONNX Runtime, a padded batch of " + input.batch() + " x " + input.seqLen() + ": " + d);
    }

    @Test
    void matchesTheStoredOnnxRuntimeOutputs() throws Exception {
        Path dir = resource("minilm");
        JsonNode[] batches = new ObjectMapper().readerFor(JsonNode.class).<JsonNode>readValues(dir.resolve("reference_inputs.jsonl").toFile())
                .readAll().toArray(JsonNode[]::new);
        Diffs all = new Diffs();
        try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            assertTrue(batches.length >= 4);
            for (JsonNode batch : batches) {
                String b = batch.get("batch").asText() + ".";
                Tensor ids = ref.tensor(b + "input_ids");
                int n = (int) ids.dim(0), seq = (int) ids.dim(1), hidden = bert.model().config().hiddenSize();
                BertInput input = new BertInput(n, seq, ints(ids), ints(ref.tensor(b + "token_type_ids")), ints(ref.tensor(b + "attention_mask")));
                BaseModelOutputWithPooling ours = bert.model().forward(input);
                float[] last = ref.tensor(b + "last_hidden_state").toFloatArray(), pooler = ref.tensor(b + "pooler_output").toFloatArray();
                float[] embeddings = ref.tensor(b + "sentence_embedding").toFloatArray();
                List<String> texts = new ArrayList<>();
                batch.get("texts").forEach(item -> texts.add(item.get("text").asText()));
                float[][] embedded = bert.embed(texts);
                Diffs d = new Diffs();
                for (int s = 0; s < n; s++) {
                    for (int t = 0; t < seq; t++) {
                        for (int i = 0; i < hidden; i++) {
                            d.hidden(Math.abs(last[(s * seq + t) * hidden + i] - ours.lastHiddenState()[s][t][i]), input.attentionMask()[s * seq + t] != 0);
                        }
                    }
                    for (int i = 0; i < hidden; i++) d.pooler = Math.max(d.pooler, Math.abs(pooler[s * hidden + i] - ours.poolerOutput()[s][i]));

                    // the embedding as a bertj user gets it: Bert.embed on the text (a pair: pooled from the forward pass)
                    JsonNode item = batch.get("texts").get(s);
                    float[] actual = item.hasNonNull("text_pair")
                            ? Pooling.normalize(Pooling.MEAN.pool(ours.lastHiddenState()[s], Arrays.copyOfRange(input.attentionMask(), s * seq, (s + 1) * seq)))
                            : embedded[s];
                    float[] expected = Arrays.copyOfRange(embeddings, s * hidden, (s + 1) * hidden);
                    d.embedding = Math.max(d.embedding, maxAbsDiff(expected, actual));
                    d.minCosine = Math.min(d.minCosine, Pooling.cosine(expected, actual));
                }
                assertWithinTolerances(d, "stored batch " + b);
                assertTrue(d.embedding <= EMBEDDING_TOLERANCE, "stored batch " + b + ": " + d);
                merge(all, d);
            }
        }
        System.out.println("[parity] bertj vs stored ONNX Runtime 1.20 outputs (minilm/reference.safetensors): " + all);
    }

    private static void merge(Diffs into, Diffs d) {
        into.real = Math.max(into.real, d.real);
        into.padded = Math.max(into.padded, d.padded);
        into.pooler = Math.max(into.pooler, d.pooler);
        into.embedding = Math.max(into.embedding, d.embedding);
        into.minCosine = Math.min(into.minCosine, d.minCosine);
    }

    private static int[] ints(Tensor t) {
        return Arrays.stream(t.toLongArray()).mapToInt(Math::toIntExact).toArray();
    }

    static Path resource(String name) throws URISyntaxException {
        Path p = Path.of(OnnxRuntimeParityTest.class.getResource("/" + name).toURI());
        assertTrue(Files.isDirectory(p), p.toString());
        return p;
    }
}
