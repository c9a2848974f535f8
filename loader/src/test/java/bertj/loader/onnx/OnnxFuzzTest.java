package bertj.loader.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import bertj.loader.BertConfig;
import bertj.loader.ModelDirectory;
import bertj.loader.ModelFormatException;
import bertj.loader.SafetensorsWriter;
import bertj.loader.Tensor;
import bertj.loader.onnx.OnnxExporter;
import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import bertj.testsupport.GuidedTargets;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of ONNX files, as the reader parses them and as the converter turns them into a model directory:
 * each input ends in a result or a {@link ModelFormatException} (an {@link OnnxFormatException} for the file
 * itself) with a message. Mutations work on the protobuf tree (fields deleted, repeated, moved, renumbered,
 * varints and lengths set to interesting values, payloads mutated as bytes) as well as on raw bytes.
 */
class OnnxFuzzTest {
    private static final Predicate<Throwable> MODEL_FORMAT = t -> t instanceof ModelFormatException;
    /** A BERT small enough that converting it takes a millisecond: vocabulary 64, hidden 8, one layer. */
    private static final BertConfig TINY = BertConfig.builder().vocabSize(64).hiddenSize(8).numHiddenLayers(1).numAttentionHeads(2)
            .intermediateSize(16).maxPositionEmbeddings(16).architectures(List.of("BertModel")).build();
    private static final List<String> WORDS = List.of("MatMul", "Add", "Gemm", "Gather", "LayerNormalization", "Softmax",
            "Reshape", "Transpose", "Mul", "Div", "Sqrt", "Erf", "Gelu", "Tanh", "Relu", "Constant", "Shape", "Unsqueeze",
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.LayerNorm.weight",
            "encoder.layer.0.attention.self.query.bias", "encoder.layer.1.output.dense.bias", "pooler.dense.bias",
            "classifier.weight", "qa_outputs.bias", "onnx::MatMul_1", "/encoder/layer.0/attention/self/query/MatMul",
            "epsilon", "axis", "transB", "approximate", "tanh", "input_ids", "last_hidden_state");

    private FuzzHarness.Scratch scratch;
    private Path tmp;
    private final GuidedTargets guided = new GuidedTargets();

    @BeforeEach
    void createScratch() throws IOException {
        scratch = FuzzHarness.scratch();
        tmp = scratch.dir();
    }

    @AfterEach
    void deleteScratch() throws IOException {
        scratch.close();
    }

    /** Parsing, planning the conversion, and making every checkpoint tensor, all in memory. */
    @Test
    void onnxReaderAndConversionPlan() throws IOException {
        onnxReader().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void onnxReaderAndConversionPlanGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "onnx-reader", this::onnxReader);
    }

    private FuzzHarness.Fuzzing onnxReader() throws IOException {
        FuzzMutator bytes = new FuzzMutator(WORDS);
        return new FuzzHarness.Fuzzing("onnx-reader", seeds(), (r, in, pool) -> mutateProto(bytes, r, in, pool), input -> {
            OnnxModel model = OnnxReader.parse(input, "fuzz.onnx");
            for (OnnxTensor t : model.graph().initializers().values()) assertEquals(t.elementCount() * t.dataType().byteSize(), t.data().byteSize());
            OnnxToHuggingFace.Plan plan = OnnxToHuggingFace.plan(model.graph(), "fuzz.onnx", 0);
            try (Arena arena = Arena.ofConfined()) {
                for (OnnxToHuggingFace.Mapping m : plan.tensors()) assertArrayEquals(m.shape(), OnnxToHuggingFace.toTensor(m, arena).shape());
            }
        }, MODEL_FORMAT);
    }

    /**
     * Found by a 60 s run: a tokenizer.json whose first bytes ({@code 7B 00 00 00}) made Jackson, given the file, guess
     * UTF-32, and a CharConversionException escaped. The file is read as UTF-8, where those bytes are a parse error.
     */
    @Test
    void aTokenizerJsonIsNeverGuessedToBeUtf32() throws IOException {
        List<byte[]> parts = FuzzMutator.split(FuzzHarness.corpusInput("onnx-converter", "tokenizer-json-guessed-as-utf-32.bin"));
        Path tokenizerFile = Files.write(tmp.resolve("tokenizer.json"), parts.get(1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> convert(parts.get(0), tokenizerFile));
        assertEquals(tokenizerFile + ": not valid UTF-8 at byte 4 (line 1)", e.getMessage());
    }

    /**
     * Found by a 60 s run: an unk_token holding lone surrogates ({@code "\\uD800"} escapes) reached tokenizer_config.json,
     * and writing it as UTF-8 threw an UnmappableCharacterException. tokenizers cannot read such a tokenizer.json, so the
     * converter refuses it, naming the string.
     */
    @Test
    void aTokenizerJsonWithALoneSurrogateIsRefusedAsTokenizersRefusesIt() throws IOException {
        List<byte[]> parts = FuzzMutator.split(FuzzHarness.corpusInput("onnx-converter", "unk-token-with-lone-surrogate.bin"));
        Path tokenizerFile = Files.write(tmp.resolve("tokenizer.json"), parts.get(1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> convert(parts.get(0), tokenizerFile));
        assertEquals(tokenizerFile + ": the string at /model/unk_token holds a lone surrogate, which is not Unicode text (tokenizers"
                + " cannot read it either)", e.getMessage());
    }

    /** Found by the normal suite in a change never committed: the check for lone surrogates failed on an empty key. */
    @Test
    void anEmptyKeyInTokenizerJsonIsJustAKey() throws IOException {
        List<byte[]> parts = FuzzMutator.split(FuzzHarness.corpusInput("onnx-converter", "empty-key-in-tokenizer-json.bin"));
        Path tokenizerFile = Files.write(tmp.resolve("tokenizer.json"), parts.get(1));
        assertEquals(64, TokenizerFiles.read(tokenizerFile).vocab().length);
    }

    private BertConfig convert(byte[] onnx, Path tokenizerJson) throws IOException {
        Path onnxFile = Files.write(tmp.resolve("model.onnx"), onnx);
        return OnnxToHuggingFace.convert(onnxFile, tokenizerJson, tmp.resolve("out"), new OnnxToHuggingFace.SentenceTransformers("mean_tokens", true, 16));
    }

    /** The whole conversion: ONNX file and tokenizer.json in, a model directory out, opened again by the loader. */
    @Test
    void onnxConversion() throws IOException {
        onnxConverter().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void onnxConversionGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "onnx-converter", this::onnxConverter);
    }

    private FuzzHarness.Fuzzing onnxConverter() throws IOException {
        FuzzMutator m = new FuzzMutator(WORDS);
        byte[] tokenizer = tinyTokenizerJson();
        List<byte[]> seeds = new ArrayList<>();
        for (byte[] onnx : seeds()) seeds.add(FuzzMutator.join(List.of(onnx, tokenizer)));
        Path onnxFile = tmp.resolve("model.onnx"), tokenizerFile = tmp.resolve("tokenizer.json");
        int[] run = {0};
        return new FuzzHarness.Fuzzing("onnx-converter", seeds, FuzzMutator.perPart(List.of((r, in, pool) -> mutateProto(m, r, in, pool), m::json)), input -> {
            List<byte[]> parts = FuzzMutator.split(input);
            Files.write(onnxFile, parts.get(0));
            boolean withTokenizer = parts.size() > 1;
            if (withTokenizer) Files.write(tokenizerFile, parts.get(1));
            Path out = tmp.resolve("out" + run[0]++);
            var sentenceTransformers = new OnnxToHuggingFace.SentenceTransformers("mean_tokens", true, 16);
            try {
                BertConfig config = OnnxToHuggingFace.convert(onnxFile, withTokenizer ? tokenizerFile : null, out, sentenceTransformers);
                try (ModelDirectory dir = ModelDirectory.open(out)) {
                    assertEquals(config, dir.config());
                }
            } finally {
                deleteTree(out);
            }
        }, MODEL_FORMAT);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** bertj's export of a tiny random BERT (torch.onnx.export's layout) and the converter test's other export style. */
    private List<byte[]> seeds() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("seed-model"));
        Random random = new Random(1);
        List<Tensor> tensors = new ArrayList<>();
        for (String name : bertj.loader.BertCheckpoint.bertModelNames(TINY, true)) {
            long[] shape = bertj.loader.BertCheckpoint.expectedShape(TINY, name);
            int n = 1;
            for (long d : shape) n *= (int) d;
            float[] values = new float[n];
            for (int i = 0; i < n; i++) values[i] = (float) random.nextGaussian() * 0.1f;
            tensors.add(Tensor.ofFloats(name, shape, values));
        }
        SafetensorsWriter.write(model.resolve("model.safetensors"), tensors);
        Files.writeString(model.resolve("config.json"), TINY.toJson());
        Path onnx = tmp.resolve("seed.onnx");
        OnnxExporter.export(model, onnx);
        return List.of(Files.readAllBytes(onnx), Proto.model(OnnxToHuggingFaceTest.oneLayerGraph()).toByteArray());
    }

    /** A WordPiece tokenizer.json with 64 tokens, the tiny model's vocabulary size. */
    private static byte[] tinyTokenizerJson() {
        StringBuilder vocab = new StringBuilder();
        String[] tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "##s", "hello", "world"};
        for (int id = 0; id < 64; id++) {
            vocab.append(id == 0 ? "" : ", ").append('"').append(id < tokens.length ? tokens[id] : "t" + id).append("\": ").append(id);
        }
        StringBuilder added = new StringBuilder();
        for (int id = 0; id < 5; id++) {
            added.append(id == 0 ? "" : ", ").append("{\"id\": ").append(id).append(", \"content\": \"").append(tokens[id])
                    .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}");
        }
        return ("{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [" + added + "],"
                + " \"normalizer\": {\"type\": \"BertNormalizer\", \"clean_text\": true, \"handle_chinese_chars\": true,"
                + " \"strip_accents\": null, \"lowercase\": true}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
                + " \"post_processor\": {\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 3], \"cls\": [\"[CLS]\", 2]},"
                + " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true},"
                + " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"continuing_subword_prefix\": \"##\","
                + " \"max_input_chars_per_word\": 100, \"vocab\": {" + vocab + "}}}").getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ protobuf-aware mutation

    /** One field of a protobuf message; {@code children} when a length-delimited payload parses as a message. */
    private static final class Field {
        int number;
        int wireType;
        long varint;
        byte[] payload;          // fixed32/64 bytes, or the length-delimited payload
        List<Field> children;    // the payload as a message, if it is one

        Field copy() {
            Field f = new Field();
            f.number = number;
            f.wireType = wireType;
            f.varint = varint;
            f.payload = payload;
            if (children != null) {
                f.children = new ArrayList<>();
                for (Field c : children) f.children.add(c.copy());
            }
            return f;
        }
    }

    /** Mostly the protobuf tree changed and written back (lengths recomputed), else raw bytes. */
    private static byte[] mutateProto(FuzzMutator bytes, Random r, byte[] input, List<byte[]> pool) {
        List<Field> root = r.nextInt(5) == 0 ? null : parse(input, 0, input.length, 0);
        if (root == null || root.isEmpty()) return bytes.bytes(r, input, pool);
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
            List<List<Field>> lists = new ArrayList<>();
            collect(root, lists);
            List<Field> list = lists.get(r.nextInt(lists.size()));
            if (list.isEmpty()) continue;
            int i = r.nextInt(list.size());
            Field f = list.get(i);
            switch (r.nextInt(9)) {
                case 0 -> list.remove(i);
                case 1 -> list.add(r.nextInt(list.size() + 1), f.copy());
                case 2 -> { // a field from anywhere in the tree, copied here
                    List<Field> other = lists.get(r.nextInt(lists.size()));
                    if (!other.isEmpty()) list.add(r.nextInt(list.size() + 1), other.get(r.nextInt(other.size())).copy());
                }
                case 3 -> f.number = r.nextBoolean() ? f.number + (r.nextBoolean() ? 1 : -1) : 1 + r.nextInt(16);
                case 4 -> { // an interesting varint, or a field turned into one
                    f.wireType = 0;
                    f.children = null;
                    f.varint = FuzzMutator.pick(r, FuzzMutator.INTERESTING_INTEGERS);
                }
                case 5 -> { // the payload mutated as bytes
                    if (f.wireType == 2 && f.children == null) f.payload = bytes.bytes(r, f.payload, pool);
                    else if (f.wireType == 0) f.varint += r.nextInt(5) - 2;
                }
                case 6 -> Collections.swap(list, i, r.nextInt(list.size()));
                case 7 -> { // a message repeated many times (a long list of nodes, dims or initializers)
                    for (int k = r.nextInt(200); k > 0; k--) list.add(i, f.copy());
                }
                default -> { // a length-delimited string replaced with a word of the format
                    if (f.wireType == 2) {
                        f.children = null;
                        f.payload = FuzzMutator.pick(r, WORDS.toArray(new String[0])).getBytes(StandardCharsets.UTF_8);
                    }
                }
            }
        }
        byte[] out = write(root);
        return r.nextInt(8) == 0 ? bytes.bytes(r, out, pool) : out;
    }

    private static void collect(List<Field> fields, List<List<Field>> out) {
        out.add(fields);
        for (Field f : fields) if (f.children != null) collect(f.children, out);
    }

    /** The fields of b[from, to), or null if those bytes are not exactly a sequence of fields. */
    private static List<Field> parse(byte[] b, int from, int to, int depth) {
        List<Field> fields = new ArrayList<>();
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(b, pos, to);
            if (tag < 0 || (tag >>> 3) == 0 || (tag >>> 3) > 0x1FFF_FFFF) return null;
            Field f = new Field();
            f.number = (int) (tag >>> 3);
            f.wireType = (int) (tag & 7);
            switch (f.wireType) {
                case 0 -> {
                    long start = pos[0];
                    f.varint = varint(b, pos, to);
                    if (pos[0] == start || pos[0] > to) return null;
                }
                case 1, 5 -> {
                    int width = f.wireType == 1 ? 8 : 4;
                    if (to - pos[0] < width) return null;
                    f.payload = java.util.Arrays.copyOfRange(b, pos[0], pos[0] + width);
                    pos[0] += width;
                }
                case 2 -> {
                    long length = varint(b, pos, to);
                    if (length < 0 || length > to - pos[0]) return null;
                    int start = pos[0], end = start + (int) length;
                    f.payload = java.util.Arrays.copyOfRange(b, start, end);
                    // a payload that parses as fields is taken for a message (a string or tensor data sometimes
                    // does; it is written back byte for byte all the same)
                    if (depth < 8 && length > 0) f.children = parse(b, start, end, depth + 1);
                    pos[0] = end;
                }
                default -> { return null; }
            }
            fields.add(f);
        }
        return fields;
    }

    /** A varint at pos[0] (advanced past it), or -1 when it is truncated. */
    private static long varint(byte[] b, int[] pos, int to) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= to) return -1;
            byte x = b[pos[0]++];
            value |= (long) (x & 0x7F) << shift;
            if (x >= 0) return value;
        }
        return -1;
    }

    private static byte[] write(List<Field> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : fields) {
            writeVarint(out, ((long) f.number << 3) | f.wireType);
            switch (f.wireType) {
                case 0 -> writeVarint(out, f.varint);
                case 2 -> {
                    byte[] payload = f.children != null ? write(f.children) : f.payload;
                    writeVarint(out, payload.length);
                    out.writeBytes(payload);
                }
                default -> out.writeBytes(f.payload);
            }
        }
        return out.toByteArray();
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
