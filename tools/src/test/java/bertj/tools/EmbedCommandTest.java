package bertj.tools;

import static bertj.tools.EncodeCommandTest.floats;
import static bertj.tools.EncodeCommandTest.lines;
import static bertj.tools.EncodeCommandTest.matrix;
import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Pooling;
import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** embed, similarity and demo; the sentence-transformers defaults on the default model. */
class EmbedCommandTest {
    static final String TINY = model("tiny-bert").toString();

    /** The token vectors encode writes for a text, for pooling by hand. */
    static float[][] tokenVectors(String model, String text) throws Exception {
        Run r = run(EncodeCommandTest.line(text, null) + "\n", "encode", model);
        assertEquals(0, r.exitCode(), r.err());
        return matrix(lines(r.out()).getFirst().get("last_hidden_state"));
    }

    @Test
    void withoutAPoolingConfigTheDefaultIsClsNotNormalised() throws Exception {
        Run r = run("", "embed", TINY, "Hello, world!", "a 🎉 b");
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> out = lines(r.out());
        assertEquals(2, out.size());
        assertEquals("Hello, world!", out.get(0).get("text").asText());
        assertEquals("a 🎉 b", out.get(1).get("text").asText());
        assertArrayEquals(tokenVectors(TINY, "Hello, world!")[0], floats(out.get(0).get("embedding")), EncodeCommandTest.RERUN_TOLERANCE,
                "the [CLS] vector");
        assertArrayEquals(tokenVectors(TINY, "a 🎉 b")[0], floats(out.get(1).get("embedding")), EncodeCommandTest.RERUN_TOLERANCE);
    }

    @Test
    void poolingAndNormalisationFlags() throws Exception {
        float[][] tokens = tokenVectors(TINY, "The cat sat on the mat.");
        int[] mask = new int[tokens.length];
        java.util.Arrays.fill(mask, 1);
        for (Pooling mode : Pooling.values()) {
            float[] expected = Pooling.normalize(mode.pool(tokens, mask));
            Run r = run("", "embed", TINY, "--pooling", mode.name().toLowerCase(), "--normalize", "The cat sat on the mat.");
            assertEquals(0, r.exitCode(), r.err());
            float[] actual = floats(lines(r.out()).getFirst().get("embedding"));
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-6, mode + " value " + i);
        }
    }

    @Test
    void readsJsonLinesWhenNoTextIsGiven() throws Exception {
        String stdin = "{\"text\": \"one\"}\n{\"text\": \"two\", \"text_pair\": \"x\"}\n[1]\n{\"text\": \"three words here\"}\n";
        Run r = run(stdin, "embed", TINY, "--pooling", "mean");
        assertEquals(1, r.exitCode());
        List<JsonNode> out = lines(r.out());
        assertEquals(4, out.size());
        assertEquals("one", out.get(0).get("text").asText());
        assertEquals("line 2: \"text_pair\" is not supported: a sentence embedding is of one text", out.get(1).get("error").asText());
        assertEquals("line 3: expected a JSON object with a string \"text\"", out.get(2).get("error").asText());
        assertEquals("three words here", out.get(3).get("text").asText());
        Run alone = run("", "embed", TINY, "--pooling", "mean", "three words here");
        float[] expected = floats(lines(alone.out()).getFirst().get("embedding")), actual = floats(out.get(3).get("embedding"));
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-6, "batched with others or alone");
    }

    /** all-MiniLM-L6-v2 is a sentence-transformers model: mean pooling and normalisation unless told otherwise. */
    @Test
    void theDefaultModelUsesItsOwnPoolingAndNormalisation() throws Exception {
        String text = "A man is playing a guitar.";
        Run r = run("", "embed", "default", text);
        assertEquals(0, r.exitCode(), r.err());
        float[] embedding = floats(lines(r.out()).getFirst().get("embedding"));
        assertEquals(384, embedding.length);
        float[][] tokens = tokenVectors("default", text);
        int[] mask = new int[tokens.length];
        java.util.Arrays.fill(mask, 1);
        float[] expected = Pooling.normalize(Pooling.MEAN.pool(tokens, mask));
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], embedding[i], 1e-6);

        Run raw = run("", "embed", "default", "--no-normalize", text);
        float[] unnormalised = floats(lines(raw.out()).getFirst().get("embedding"));
        float[] mean = Pooling.MEAN.pool(tokens, mask);
        for (int i = 0; i < mean.length; i++) assertEquals(mean[i], unnormalised[i], 1e-6);

        Run similarity = run("", "similarity", "default", text, "Someone is making music.");
        assertEquals(0, similarity.exitCode(), similarity.err());
        Run other = run("", "embed", "default", "Someone is making music.");
        double expectedCosine = Pooling.cosine(embedding, floats(lines(other.out()).getFirst().get("embedding")));
        assertEquals(expectedCosine, Double.parseDouble(similarity.out().strip()), 1e-6);
        assertTrue(similarity.out().matches("0\\.\\d+\n"), "one number on one line: " + similarity.out());
    }

    @Test
    void demoEmbedsTheReadmeSentencesAndComparesEveryPair() {
        Run r = run("", "demo", "--threads", "1");
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out();
        assertTrue(out.startsWith("all-MiniLM-L6-v2: 6 layers, hidden size 384, mean pooling, normalized; 1 thread\nloaded in "), out);
        for (String sentence : DemoCommand.SENTENCES) {
            assertTrue(Pattern.compile("\n  \"" + Pattern.quote(sentence) + "\" +\\[ *-?0\\.\\d{4},.* \\.\\.\\.] \\(384\\)  \\d+\\.\\d+ ms")
                    .matcher(out).find(), sentence + " with its first values and time:\n" + out);
        }
        Matcher pair = Pattern.compile("(?m)^ +(-?0\\.\\d{4})  \"(.+?)\" +~ \"(.+?)\"$").matcher(out);
        int pairs = 0;
        while (pair.find()) {
            pairs++;
            double cosine = Double.parseDouble(pair.group(1));
            // the one pair that means the same is far more alike than the unrelated ones
            if (pair.group(2).contains("guitar") && pair.group(3).contains("music")) assertTrue(cosine > 0.5, out);
            else assertTrue(Math.abs(cosine) < 0.2, out);
        }
        assertEquals(6, pairs, out);
        assertTrue(out.contains("(6 pairs from the embeddings above in "), out);
    }

    @Test
    void wrongFlagsAreUsageErrors() {
        for (String[] args : new String[][] {{"embed", TINY, "--pooling", "sum", "x"}, {"embed"}, {"similarity", TINY, "only one"},
                {"demo", "--threads", "0"}, {"demo", "extra"}, {"embed", TINY, "--normalise", "x"}}) {
            Run r = run("", args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains("Usage: bertj"), r.err());
        }
    }
}
