package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import bertj.engine.Bert;
import bertj.engine.BertInput;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.engine.Pooling;
import bertj.kernels.ThreadPool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The SIMD engine's outputs, bit for bit, against hashes stored from an earlier build: a change that is meant to keep
 * the arithmetic (a refactoring, a faster schedule of the same sums) must leave every bit of every output as it was.
 * all-MiniLM-L6-v2, padded batches of several shapes (the first few calls run on the SIMD twins, the others on the
 * Vector API kernels), packed embeddings of texts of many lengths, one and two threads.
 *
 * <p>The hashes hold for one vector width (the kernels' tiles follow it); on another, the test is skipped. After a
 * change that is meant to alter the arithmetic, regenerate them with {@code -Dbertj.storeOutputs=true}, and say why
 * in the commit.
 */
class MiniLmStoredOutputsTest {
    private static final int[][] SHAPES = {{1, 3}, {1, 8}, {1, 77}, {3, 19}, {8, 128}, {2, 512}};

    @Test
    void everyOutputIsTheSameBitsAsStored() throws Exception {
        String file = "stored-outputs/all-minilm-l6-v2-" + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "bit.txt";
        Map<String, String> actual = new LinkedHashMap<>();
        for (int threads : new int[] {1, 2}) {
            try (ThreadPool pool = new ThreadPool(threads); Bert bert = Bert.load(ModelArgument.resolve("default"), pool)) {
                outputs(bert, threads, actual);
            }
        }
        if (Boolean.getBoolean("bertj.storeOutputs")) {
            Path out = Path.of("src/test/resources").resolve(file);
            Files.createDirectories(out.getParent());
            StringBuilder text = new StringBuilder();
            actual.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
            Files.writeString(out, text);
            System.out.println("[stored-outputs] wrote " + actual.size() + " hashes to " + out.toAbsolutePath());
            return;
        }
        Map<String, String> expected = stored(file);
        assumeTrue(expected != null, "no stored outputs for " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors");
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            if (!e.getValue().equals(actual.get(e.getKey()))) differ.add(e.getKey());
        }
        assertEquals(expected.keySet(), actual.keySet(), "the outputs compared");
        assertEquals(List.of(), differ, "outputs whose bits changed");
    }

    private static void outputs(Bert bert, int threads, Map<String, String> hashes) throws Exception {
        Random random = new Random(7);
        int vocab = bert.model().config().vocabSize();
        for (int[] shape : SHAPES) {
            int batch = shape[0], seq = shape[1];
            List<int[]> ids = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] row = new int[b == 0 ? seq : Math.max(2, seq - 5 * b)]; // the others padded
                for (int i = 0; i < row.length; i++) row[i] = 1000 + random.nextInt(vocab - 1000);
                ids.add(row);
            }
            BaseModelOutputWithPooling out = bert.model().forward(BertInput.padded(ids, null, 0));
            String key = "threads=" + threads + " forward " + batch + "x" + seq;
            hashes.put(key + " last_hidden_state", hash(out.lastHiddenState()));
            hashes.put(key + " pooler_output", out.poolerOutput() == null ? "none" : hash(new float[][][] {out.poolerOutput()}));
        }
        List<String> texts = texts();
        hashes.put("threads=" + threads + " embed " + texts.size() + " texts", hash(new float[][][] {bert.embed(texts)}));
        hashes.put("threads=" + threads + " embed mean, not normalized",
                hash(new float[][][] {bert.embed(texts, Pooling.MEAN, false)}));
        hashes.put("threads=" + threads + " embed one text", hash(new float[][][] {{bert.embed(texts.get(5))}}));
    }

    /** 120 texts of 1 to 300 words, so that packed forwards hold sequences of many lengths, some truncated. */
    private static List<String> texts() {
        String[] words = ("the a of BERT encoder runs on CPU with SIMD kernels attention softmax layer norm gelu tokens "
                + "Ünïcödé 東京 naïve café, (parentheses) numbers 12345 3.14 e-mail: user@example.org don't stop!").split(" ");
        Random random = new Random(11);
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < 120; t++) {
            int n = 1 + (int) (Math.pow(random.nextDouble(), 2.5) * 300);
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) s.append(i == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            texts.add(s.toString());
        }
        return texts;
    }

    private static String hash(float[][][] values) throws NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteBuffer bits = ByteBuffer.allocate(4);
        for (float[][] matrix : values) {
            for (float[] row : matrix) {
                for (float v : row) {
                    sha.update(bits.clear().putInt(Float.floatToRawIntBits(v)).array());
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 12);
    }

    private static Map<String, String> stored(String resource) throws IOException {
        try (InputStream in = MiniLmStoredOutputsTest.class.getResourceAsStream("/" + resource)) {
            if (in == null) return null;
            Map<String, String> hashes = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList()) {
                int space = line.lastIndexOf(' ');
                hashes.put(line.substring(0, space), line.substring(space + 1));
            }
            return hashes;
        }
    }
}
