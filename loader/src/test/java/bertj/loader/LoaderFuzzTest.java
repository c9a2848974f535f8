package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import bertj.testsupport.FuzzHarness;
import bertj.testsupport.FuzzMutator;
import bertj.testsupport.GuidedTargets;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of every file the loader reads: each input ends in a result or a {@link ModelFormatException} with a
 * message, within the time and memory its size explains (see {@link FuzzHarness} for the budget and
 * {@code -Dbertj.fuzz.seconds} for a longer run).
 */
class LoaderFuzzTest {
    private static final Predicate<Throwable> MODEL_FORMAT = t -> t instanceof ModelFormatException;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where each execution writes its files (in memory when possible: see {@link FuzzHarness#scratch()}). */
    private FuzzHarness.Scratch scratch;
    private Path tmp;

    @BeforeEach
    void createScratch() throws IOException {
        scratch = FuzzHarness.scratch();
        tmp = scratch.dir();
    }

    @AfterEach
    void deleteScratch() throws Exception {
        for (AutoCloseable c : opened) c.close();
        scratch.close();
    }

    /** What a target's set-up opened, closed after the test. */
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final GuidedTargets guided = new GuidedTargets();

    // ------------------------------------------------------------------ safetensors

    @Test
    void safetensorsFiles() throws IOException {
        safetensors().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void safetensorsFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "safetensors", this::safetensors);
    }

    private FuzzHarness.Fuzzing safetensors() throws IOException {
        FuzzMutator m = new FuzzMutator(List.of("F32", "F16", "BF16", "I64", "I32", "F64", "I8", "U8", "BOOL", "F8_E4M3",
                "dtype", "shape", "data_offsets", "__metadata__", "format", "pt"));
        Path file = tmp.resolve("fuzz.safetensors");
        return new FuzzHarness.Fuzzing("safetensors", safetensorsSeeds(), (r, in, pool) -> mutateSafetensors(m, r, in, pool), input -> {
            Files.write(file, input);
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                readEverything(st.tensors());
                st.metadata().forEach((k, v) -> assertEquals(v, st.metadata().get(k)));
            }
            try (Checkpoint c = Checkpoint.open(file)) {
                c.dtypeSummary();
                assertEquals(c.totalBytes(), c.names().stream().map(c::tensor).mapToLong(Tensor::byteSize).sum());
            }
        }, MODEL_FORMAT);
    }

    /** Small files of every dtype, empty and scalar shapes, with and without metadata. */
    private List<byte[]> safetensorsSeeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        List<List<Tensor>> files = List.of(
                List.of(Tensor.ofFloats("a", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}),
                        Tensor.ofHalfBits("b", DType.F16, new long[] {4}, new short[] {0x3C00, (short) 0xBC00, 0x7C00, 0x7E00}),
                        Tensor.ofHalfBits("c", DType.BF16, new long[] {1, 1, 2}, new short[] {0x3F80, (short) 0xC000}),
                        Tensor.ofLongs("d", new long[] {3}, new long[] {0, -1, Long.MAX_VALUE}),
                        Tensor.ofInts("e", new long[] {}, new int[] {42}),
                        Tensor.ofFloats("empty", new long[] {0, 5}, new float[0])),
                List.of(Tensor.ofFloats("embeddings.word_embeddings.weight", new long[] {1}, new float[] {0.5f})),
                List.of());
        for (int i = 0; i < files.size(); i++) {
            Path f = tmp.resolve("seed" + i + ".safetensors");
            SafetensorsWriter.write(f, files.get(i), i == 1 ? Map.of() : Map.of("format", "pt"));
            seeds.add(Files.readAllBytes(f));
        }
        return seeds;
    }

    /** Mostly the JSON header (re-framed with its true length), else the length field, the data, or any byte. */
    private static byte[] mutateSafetensors(FuzzMutator m, Random r, byte[] file, List<byte[]> pool) {
        if (file.length < 8) return m.bytes(r, file, pool);
        long length = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (length < 0 || length > file.length - 8) return m.bytes(r, file, pool);
        byte[] header = Arrays.copyOfRange(file, 8, 8 + (int) length);
        byte[] data = Arrays.copyOfRange(file, 8 + (int) length, file.length);
        long framedLength;
        switch (r.nextInt(8)) {
            case 0, 1, 2, 3 -> {
                header = m.json(r, header, pool);
                framedLength = header.length;
            }
            case 4 -> framedLength = r.nextBoolean() ? FuzzMutator.pick(r, FuzzMutator.INTERESTING_INTEGERS) : length + r.nextInt(17) - 8;
            case 5 -> {
                data = r.nextBoolean() ? Arrays.copyOf(data, data.length == 0 ? 0 : r.nextInt(data.length))
                        : Arrays.copyOf(data, data.length + 1 + r.nextInt(64));
                framedLength = length;
            }
            default -> {
                return m.bytes(r, file, pool);
            }
        }
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(framedLength).put(header).put(data).array();
    }

    /** Reads every byte of every tensor the way the engine and the tools do. */
    private static void readEverything(List<Tensor> tensors) {
        try (Arena arena = Arena.ofConfined()) {
            for (Tensor t : tensors) {
                assertEquals(t.byteSize(), t.elementCount() * t.dtype().byteSize());
                if (t.dtype().isFloatingPoint()) {
                    assertEquals(t.elementCount() * Float.BYTES, t.toF32(arena).byteSize());
                    assertEquals(t.elementCount(), t.toFloatArray().length);
                } else {
                    assertEquals(t.elementCount(), t.toLongArray().length);
                }
            }
        }
    }

    // ------------------------------------------------------------------ sharded checkpoints

    @Test
    void shardIndexFiles() throws IOException {
        shardIndex().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void shardIndexFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "shard-index", this::shardIndex);
    }

    private FuzzHarness.Fuzzing shardIndex() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("sharded"));
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), List.of(
                Tensor.ofFloats("a", new long[] {2}, new float[] {1, 2}), Tensor.ofFloats("b", new long[] {1}, new float[] {3})));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), List.of(
                Tensor.ofHalfBits("c", DType.BF16, new long[] {2}, new short[] {0x3F80, 0x4000})));
        Files.writeString(tmp.resolve("outside.safetensors"), "not a checkpoint");
        String index = """
                {"metadata": {"total_size": 16}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""";
        FuzzMutator m = new FuzzMutator(List.of("weight_map", "metadata", "total_size", "a", "b", "c", "d",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                "../outside.safetensors", "./model-00001-of-00002.safetensors", "sub/../model-00002-of-00002.safetensors",
                dir.toString(), dir.resolve("model-00001-of-00002.safetensors").toString(), "missing.safetensors", "\u0000"));
        Path indexFile = dir.resolve(Checkpoint.INDEX_FILE);
        return new FuzzHarness.Fuzzing("shard-index", List.of(index.getBytes(StandardCharsets.UTF_8)), m::json, input -> {
            Files.write(indexFile, input);
            try (Checkpoint c = Checkpoint.open(dir)) {
                for (String name : c.names()) {
                    Tensor t = c.tensor(name);
                    assertEquals(name, t.name());
                    t.toFloatArray();
                }
                c.dtypeSummary();
                c.files().forEach(f -> assertEquals(dir, f.getParent(), "a shard outside the model directory"));
            }
        }, MODEL_FORMAT);
    }

    // ------------------------------------------------------------------ config.json

    @Test
    void configFiles() throws IOException {
        config().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void configFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "config-json", this::config);
    }

    private FuzzHarness.Fuzzing config() throws IOException {
        List<byte[]> seeds = List.of(
                Files.readAllBytes(TestData.model("tiny-bert-seqcls").resolve("config.json")),
                Files.readAllBytes(TestData.model("tiny-bert-bf16-sharded-legacy").resolve("config.json")),
                "{}".getBytes(StandardCharsets.UTF_8));
        FuzzMutator m = new FuzzMutator(List.of("model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                "num_attention_heads", "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
                "layer_norm_eps", "pad_token_id", "position_embedding_type", "architectures", "id2label", "label2id",
                "num_labels", "is_decoder", "bert", "gelu", "gelu_new", "relu", "silu", "absolute", "relative_key",
                "BertForSequenceClassification", "BertForTokenClassification", "0", "1", "2", "-1", "00", "+1"));
        Path file = tmp.resolve("config.json");
        Checkpoint weights = Checkpoint.open(TestData.model("tiny-bert-seqcls"));
        opened.add(weights);
        return new FuzzHarness.Fuzzing("config-json", seeds, m::json, input -> {
            BertConfig parsed = BertConfig.parse(new String(input, StandardCharsets.UTF_8), "config.json");
            Files.write(file, input);
            BertConfig loaded = BertConfig.load(file);
            assertEquals(parsed, loaded);
            assertEquals(loaded, BertConfig.parse(loaded.toJson(), "round trip"), "toJson does not read back");
            loaded.parameterCount(true);
            // the config against real weights: every shape it implies is checked, nothing sized by it is allocated
            new BertCheckpoint(weights, loaded, "config.json").parameterCount();
        }, MODEL_FORMAT);
    }

    // ------------------------------------------------------------------ sentence-transformers files

    @Test
    void sentenceTransformersFiles() throws IOException {
        sentenceTransformers().run().assertNoFailures();
    }

    @FuzzTest(maxDuration = FuzzHarness.GUIDED_DURATION, maxExecutions = FuzzHarness.GUIDED_EXECUTIONS)
    @Tag(FuzzHarness.GUIDED)
    void sentenceTransformersFilesGuided(FuzzedDataProvider data) throws Exception {
        guided.execute(data, "sentence-transformers", this::sentenceTransformers);
    }

    private FuzzHarness.Fuzzing sentenceTransformers() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("st"));
        Files.copy(TestData.model("tiny-bert-seqcls").resolve("config.json"), dir.resolve("config.json"));
        Files.createDirectories(dir.resolve("1_Pooling"));
        byte[] modules = """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"""
                .getBytes(StandardCharsets.UTF_8);
        ObjectNode poolingConfig = JSON.createObjectNode().put("word_embedding_dimension", 32)
                .put("pooling_mode_cls_token", false).put("pooling_mode_mean_tokens", true).put("pooling_mode_max_tokens", false)
                .put("pooling_mode_mean_sqrt_len_tokens", false);
        byte[] sbert = "{\"max_seq_length\": 256, \"do_lower_case\": false}".getBytes(StandardCharsets.UTF_8);
        byte[] seed = FuzzMutator.join(List.of(modules, FuzzMutator.toJson(poolingConfig), sbert));
        FuzzMutator m = new FuzzMutator(List.of("type", "path", "idx", "name", "sentence_transformers.models.Transformer",
                "sentence_transformers.models.Pooling", "sentence_transformers.models.Normalize",
                "sentence_transformers.models.Dense", "1_Pooling", "../1_Pooling", "/", "config.json", "max_seq_length",
                "word_embedding_dimension", "pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                "pooling_mode_lasttoken"));
        String[] files = {"modules.json", "1_Pooling/config.json", "sentence_bert_config.json"};
        return new FuzzHarness.Fuzzing("sentence-transformers", List.of(seed), FuzzMutator.perPart(List.of(m::json, m::json, m::json)), input -> {
            List<byte[]> parts = FuzzMutator.split(input);
            for (int i = 0; i < files.length; i++) {
                Path f = dir.resolve(files[i]);
                if (i < parts.size()) Files.write(f, parts.get(i));
                else Files.deleteIfExists(f);
            }
            try (ModelDirectory d = ModelDirectory.open(dir)) {
                d.pooling();
                d.maxSeqLength();
            }
        }, MODEL_FORMAT);
    }
}
