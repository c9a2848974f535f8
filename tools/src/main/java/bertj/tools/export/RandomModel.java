package bertj.tools.export;

import bertj.loader.BertConfig;
import bertj.loader.ByteSink;
import bertj.loader.HiddenAct;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a Hugging Face BERT directory with seeded random weights, initialized the way
 * {@code transformers.BertModel(BertConfig(...))} is ({@code BertPreTrainedModel._init_weights}): Linear and
 * Embedding weights normal(0, initializer_range = 0.02), the padding row of the word embeddings zero, Linear
 * biases 0, LayerNorm weight 1 and bias 0; pooler included. The vocabulary is bert-base-uncased's.
 *
 * <p>The values are a function of the seed alone (not of the thread count), but not PyTorch's random
 * stream: the weights have the right distribution, not the bytes {@code torch.manual_seed} would give.
 */
public final class RandomModel {
    public static final long DEFAULT_SEED = 42;
    public static final double INITIALIZER_RANGE = 0.02;
    /** The vocabulary bundled as a resource (bert-base-uncased's 30,522 WordPiece tokens). */
    public static final int VOCAB_SIZE = 30522;

    private static final String VOCAB_RESOURCE = "bert-base-uncased-vocab.txt";
    /** Normals drawn per generator: each chunk of a tensor has its own seed, so chunks fill in parallel. */
    private static final int CHUNK_FLOATS = 1 << 20;
    /** Chunks generated in parallel before being written: bounds the heap used to 32 MiB. */
    private static final int CHUNKS_PER_WINDOW = 8;

    private RandomModel() {
    }

    /** The shapes {@code random-model --config} knows, by name. */
    public enum Shape {
        /** bert-base-uncased: 12 layers, hidden 768, 12 heads, intermediate 3072 (110M parameters). */
        BERT_BASE("bert-base", 768, 12, 12, 3072),
        /** all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, intermediate 1536 (23M parameters). */
        MINILM("minilm", 384, 6, 12, 1536);

        private final String cliName;
        private final int hidden, layers, heads, intermediate;

        Shape(String cliName, int hidden, int layers, int heads, int intermediate) {
            this.cliName = cliName;
            this.hidden = hidden;
            this.layers = layers;
            this.heads = heads;
            this.intermediate = intermediate;
        }

        public String cliName() {
            return cliName;
        }

        /** The config, with bert-base-uncased's vocabulary (30,522), 512 positions, 2 token types and exact GELU. */
        public BertConfig config() {
            return BertConfig.builder()
                    .vocabSize(VOCAB_SIZE).hiddenSize(hidden).numHiddenLayers(layers).numAttentionHeads(heads)
                    .intermediateSize(intermediate).hiddenAct(HiddenAct.GELU).maxPositionEmbeddings(512)
                    .typeVocabSize(2).layerNormEps(1e-12).padTokenId(0).architectures(List.of("BertModel"))
                    .build();
        }

        /** @throws IllegalArgumentException naming the known shapes */
        public static Shape of(String name) {
            for (Shape s : values()) {
                if (s.cliName.equals(name)) return s;
            }
            throw new IllegalArgumentException("unknown model config \"" + name + "\" (known: "
                    + String.join(", ", Arrays.stream(values()).map(Shape::cliName).toList()) + ")");
        }
    }

    /** Writes the named shape ({@code "bert-base"} or {@code "minilm"}) to {@code outDir}. */
    public static void write(Path outDir, String configName, long seed) {
        write(outDir, Shape.of(configName).config(), seed);
    }

    /**
     * Writes config.json, model.safetensors, vocab.txt and tokenizer_config.json to {@code outDir} (created
     * if missing; files of those names are replaced). The weights are streamed to disk a window at a time.
     *
     * @throws IllegalArgumentException if the config's vocab_size is not the bundled vocabulary's
     */
    public static void write(Path outDir, BertConfig config, long seed) {
        if (config.vocabSize() != VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab_size is " + config.vocabSize() + ", but the bundled vocabulary "
                    + "(bert-base-uncased) has " + VOCAB_SIZE + " tokens");
        }
        try {
            Files.createDirectories(outDir);
            replace(outDir.resolve("config.json"), tmp -> Files.writeString(tmp, configJson(config)));
            replace(outDir.resolve("tokenizer_config.json"), tmp -> Files.writeString(tmp, tokenizerConfigJson(config)));
            replace(outDir.resolve("vocab.txt"), tmp -> {
                try (InputStream vocab = RandomModel.class.getResourceAsStream(VOCAB_RESOURCE)) {
                    if (vocab == null) throw new IllegalStateException("resource " + VOCAB_RESOURCE + " is missing from bertj-tools");
                    Files.copy(vocab, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
            });
            replace(outDir.resolve("model.safetensors"), tmp -> writeSafetensors(tmp, parameters(config), seed));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model to " + outDir + ": " + e.getMessage(), e);
        }
    }

    /** How {@code _init_weights} fills a parameter. */
    enum Init { NORMAL, ZEROS, ONES }

    /** One parameter of BertModel: its state-dict name, shape, initialization, and a row to zero (or -1). */
    record Parameter(String name, long[] shape, Init init, int zeroRow) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** BertModel's parameters in module order (the order of its state dict). */
    static List<Parameter> parameters(BertConfig config) {
        int h = config.hiddenSize(), i = config.intermediateSize();
        List<Parameter> p = new ArrayList<>();
        p.add(new Parameter("embeddings.word_embeddings.weight", new long[] {config.vocabSize(), h}, Init.NORMAL,
                config.padTokenId() < config.vocabSize() ? config.padTokenId() : -1)); // nn.Embedding(padding_idx=pad_token_id)
        p.add(new Parameter("embeddings.position_embeddings.weight", new long[] {config.maxPositionEmbeddings(), h}, Init.NORMAL, -1));
        p.add(new Parameter("embeddings.token_type_embeddings.weight", new long[] {config.typeVocabSize(), h}, Init.NORMAL, -1));
        layerNorm(p, "embeddings.LayerNorm", h);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String layer = "encoder.layer." + l;
            linear(p, layer + ".attention.self.query", h, h);
            linear(p, layer + ".attention.self.key", h, h);
            linear(p, layer + ".attention.self.value", h, h);
            linear(p, layer + ".attention.output.dense", h, h);
            layerNorm(p, layer + ".attention.output.LayerNorm", h);
            linear(p, layer + ".intermediate.dense", h, i);
            linear(p, layer + ".output.dense", i, h);
            layerNorm(p, layer + ".output.LayerNorm", h);
        }
        linear(p, "pooler.dense", h, h);
        return p;
    }

    private static void linear(List<Parameter> p, String module, int in, int out) {
        p.add(new Parameter(module + ".weight", new long[] {out, in}, Init.NORMAL, -1));
        p.add(new Parameter(module + ".bias", new long[] {out}, Init.ZEROS, -1));
    }

    private static void layerNorm(List<Parameter> p, String module, int size) {
        p.add(new Parameter(module + ".weight", new long[] {size}, Init.ONES, -1));
        p.add(new Parameter(module + ".bias", new long[] {size}, Init.ZEROS, -1));
    }

    /** safetensors: 8-byte header length, the JSON header padded with spaces to a multiple of 8, the F32 data. */
    private static void writeSafetensors(Path file, List<Parameter> parameters, long seed) throws IOException {
        byte[] header = safetensorsHeader(parameters);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
             ByteSink sink = new ByteSink(channel)) {
            sink.putLong(header.length);
            sink.put(header);
            for (int t = 0; t < parameters.size(); t++) writeValues(sink, parameters.get(t), seed, t);
        }
    }

    private static byte[] safetensorsHeader(List<Parameter> parameters) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Parameter p : parameters) {
            ObjectNode entry = root.putObject(p.name());
            entry.put("dtype", "F32");
            var shape = entry.putArray("shape");
            for (long d : p.shape()) shape.add(d);
            long bytes = p.elements() * Float.BYTES;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = TextFiles.compactJson(root).getBytes(StandardCharsets.US_ASCII);
        byte[] padded = new byte[(json.length + 7) & ~7];
        Arrays.fill(padded, (byte) ' ');
        System.arraycopy(json, 0, padded, 0, json.length);
        return padded;
    }

    private static void writeValues(ByteSink sink, Parameter p, long seed, int tensorIndex) throws IOException {
        long elements = p.elements();
        switch (p.init()) {
            case ZEROS, ONES -> {
                float value = p.init() == Init.ONES ? 1f : 0f;
                for (long e = 0; e < elements; e++) sink.putFloat(value);
            }
            case NORMAL -> {
                long rowLength = p.shape()[p.shape().length - 1];
                long chunks = (elements + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
                float[][] window = new float[CHUNKS_PER_WINDOW][];
                for (long first = 0; first < chunks; first += CHUNKS_PER_WINDOW) {
                    int count = (int) Math.min(CHUNKS_PER_WINDOW, chunks - first);
                    long firstChunk = first;
                    IntStream.range(0, count).parallel().forEach(c -> {
                        long chunk = firstChunk + c;
                        long start = chunk * CHUNK_FLOATS;
                        window[c] = normals(chunkSeed(seed, tensorIndex, chunk), (int) Math.min(CHUNK_FLOATS, elements - start));
                        zeroRow(window[c], start, p.zeroRow(), rowLength);
                    });
                    for (int c = 0; c < count; c++) sink.putFloats(window[c], 0, window[c].length);
                }
            }
        }
    }

    /** normal(0, INITIALIZER_RANGE) values. */
    private static float[] normals(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) out[i] = (float) (INITIALIZER_RANGE * random.nextGaussian());
        return out;
    }

    /** Zeroes the part of row {@code row} (of {@code rowLength} values) that falls in this chunk. */
    private static void zeroRow(float[] chunk, long chunkStart, int row, long rowLength) {
        if (row < 0) return;
        long from = Math.max(row * rowLength, chunkStart), to = Math.min((row + 1) * rowLength, chunkStart + chunk.length);
        for (long e = from; e < to; e++) chunk[(int) (e - chunkStart)] = 0f;
    }

    /** A distinct, well-mixed seed per (seed, tensor, chunk) (SplitMix64's finalizer). */
    private static long chunkSeed(long seed, int tensorIndex, long chunk) {
        long z = seed * 0x9E3779B97F4A7C15L + ((long) tensorIndex << 32) + chunk;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** config.json as transformers writes it for bert-base-uncased (architectures BertModel). */
    static String configJson(BertConfig config) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putArray("architectures").add("BertModel");
        root.put("attention_probs_dropout_prob", 0.1);
        root.putNull("classifier_dropout");
        root.put("hidden_act", config.hiddenAct().configName());
        root.put("hidden_dropout_prob", 0.1);
        root.put("hidden_size", config.hiddenSize());
        root.put("initializer_range", INITIALIZER_RANGE);
        root.put("intermediate_size", config.intermediateSize());
        root.put("layer_norm_eps", config.layerNormEps());
        root.put("max_position_embeddings", config.maxPositionEmbeddings());
        root.put("model_type", "bert");
        root.put("num_attention_heads", config.numAttentionHeads());
        root.put("num_hidden_layers", config.numHiddenLayers());
        root.put("pad_token_id", config.padTokenId());
        root.put("position_embedding_type", "absolute");
        root.put("torch_dtype", "float32");
        root.put("type_vocab_size", config.typeVocabSize());
        root.put("use_cache", true);
        root.put("vocab_size", config.vocabSize());
        return TextFiles.json(root);
    }

    static String tokenizerConfigJson(BertConfig config) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("do_lower_case", true);
        root.put("model_max_length", config.maxPositionEmbeddings());
        root.put("tokenizer_class", "BertTokenizer");
        root.put("cls_token", "[CLS]");
        root.put("sep_token", "[SEP]");
        root.put("pad_token", "[PAD]");
        root.put("unk_token", "[UNK]");
        root.put("mask_token", "[MASK]");
        root.put("tokenize_chinese_chars", true);
        root.putNull("strip_accents");
        return TextFiles.json(root);
    }

    @FunctionalInterface
    private interface FileWrite {
        void to(Path tmp) throws IOException;
    }

    /** Writes under a temporary name and moves into place, so an interrupted run leaves no half-written file. */
    private static void replace(Path file, FileWrite write) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            write.to(tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String describe(BertConfig config) {
        return String.format(Locale.ROOT, "%d layers, hidden %d, %d heads, intermediate %d, %.1fM parameters",
                config.numHiddenLayers(), config.hiddenSize(), config.numAttentionHeads(), config.intermediateSize(),
                config.parameterCount(true) / 1e6);
    }
}
