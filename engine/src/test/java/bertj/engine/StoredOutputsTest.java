package bertj.engine;

import bertj.fixtures.Fixtures;
import bertj.kernels.ThreadPool;
import bertj.kernels.VectorSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every output bit of every test model, in both kernel modes, against digests stored from an earlier build
 * ({@code golden/outputs.txt}: the commit they were made at, then one line per vector width, model, mode and
 * part). A refactoring of the kernels or the engine that is meant to change no result must keep them; one that
 * changes results on purpose stores new ones, saying why in its commit. Parts: the first forward (in VECTOR mode
 * it runs on the SIMD twins), in VECTOR mode the fifth (the SIMD kernels), and the heads' logits. The digests depend on the vector width
 * (LayerNorm and softmax sums have one partial sum per lane), so a width with none stored is skipped.
 *
 * <p>{@link #main} prints the lines, with only the public API, so that it compiles against an older build too:
 * {@code java --add-modules jdk.incubator.vector -cp OLD_JARS:JUNIT_JARS StoredOutputsTest.java MODELS_DIR}.
 */
class StoredOutputsTest {
    private static final String STORED = "/golden/outputs.txt";

    @Test
    void everyOutputBitIsAsStored() throws IOException {
        Map<String, String> stored = new TreeMap<>();
        try (InputStream in = StoredOutputsTest.class.getResourceAsStream(STORED)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int space = line.lastIndexOf(' ');
                stored.put(line.substring(0, space), line.substring(space + 1));
            }
        }
        String width = VectorSupport.vectorBits() + " ";
        Assumptions.assumeTrue(stored.keySet().stream().anyMatch(k -> k.startsWith(width)),
                "no outputs stored for " + VectorSupport.vectorBits() + "-bit vectors");
        List<Path> models = Stream.of("tiny-bert", "tiny-bert-bf16-sharded-legacy", "tiny-bert-qa", "tiny-bert-seqcls",
                "tiny-bert-tokcls").map(Fixtures::model).toList();
        Map<String, String> now = digests(models);
        Map<String, String> expected = new TreeMap<>();
        stored.forEach((k, v) -> {
            if (k.startsWith(width)) expected.put(k, v);
        });
        assertEquals(String.join("\n", lines(expected)), String.join("\n", lines(now)));
    }

    private static List<String> lines(Map<String, String> digests) {
        List<String> lines = new ArrayList<>();
        digests.forEach((k, v) -> lines.add(k + " " + v));
        return lines;
    }

    /** "vectorBits model mode part" -> SHA-256 of the part's floats' raw bits, for every model under {@code models}. */
    static Map<String, String> digests(Path models) throws IOException {
        try (Stream<Path> list = Files.list(models)) {
            return digests(list.sorted().toList());
        }
    }

    /** The same for the model folders {@code dirs}, each digest keyed by the folder's name. */
    static Map<String, String> digests(List<Path> dirs) throws IOException {
        Random random = new Random(7);
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (int len : new int[] {1, 5, 17, 40, 3}) {
            int[] seq = new int[len], tt = new int[len];
            for (int i = 0; i < len; i++) {
                seq[i] = 100 + random.nextInt(30000);
                tt[i] = i > len / 2 ? 1 : 0;
            }
            ids.add(seq);
            types.add(tt);
        }
        BertInput input = BertInput.padded(ids, types, 0);
        Map<String, String> out = new TreeMap<>();
        try (ThreadPool pool = new ThreadPool(2)) {
            for (Path dir : dirs) {
                for (KernelMode mode : KernelMode.values()) {
                    String key = VectorSupport.vectorBits() + " " + dir.getFileName() + " " + mode + " ";
                    try (Bert bert = Bert.load(dir, pool, mode)) {
                        int runs = mode == KernelMode.VECTOR ? 5 : 1; // the first four small forwards run on the SIMD twins
                        for (int run = 1; run <= runs; run++) {
                            BaseModelOutputWithPooling o = bert.model().forward(input, true, true);
                            if (run == 1 || run == 5) out.put(key + "forward" + run, digest(o));
                        }
                        Digest heads = new Digest();
                        try { heads.put(bert.sequenceLogits(input)); } catch (UnsupportedOperationException noSuchHead) { }
                        try { heads.put(bert.tokenLogits(input)); } catch (UnsupportedOperationException noSuchHead) { }
                        try { heads.put(bert.spanLogits(input)); } catch (UnsupportedOperationException noSuchHead) { }
                        out.put(key + "heads", heads.hex());
                    }
                }
            }
        }
        return out;
    }

    private static String digest(BaseModelOutputWithPooling o) {
        Digest d = new Digest();
        d.put(o.lastHiddenState());
        if (o.poolerOutput() != null) d.put(o.poolerOutput());
        for (float[][][] h : o.hiddenStates()) d.put(h);
        for (float[][][][] a : o.attentions()) for (float[][][] x : a) d.put(x);
        return d.hex();
    }

    private static final class Digest {
        private final MessageDigest sha;
        private final byte[] bytes = new byte[4];

        Digest() {
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void put(float v) {
            int bits = Float.floatToRawIntBits(v);
            bytes[0] = (byte) bits;
            bytes[1] = (byte) (bits >> 8);
            bytes[2] = (byte) (bits >> 16);
            bytes[3] = (byte) (bits >> 24);
            sha.update(bytes);
        }

        void put(float[][] a) {
            for (float[] row : a) for (float v : row) put(v);
        }

        void put(float[][][] a) {
            for (float[][] m : a) put(m);
        }

        String hex() {
            return HexFormat.of().formatHex(sha.digest());
        }
    }

    public static void main(String[] args) throws IOException {
        lines(digests(Path.of(args[0]))).forEach(System.out::println);
    }
}
