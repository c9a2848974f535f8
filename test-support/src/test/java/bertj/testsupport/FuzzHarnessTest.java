package bertj.testsupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a failure tells, and the bridge to Jazzer: the fuzzer's bytes choose the start and the mutations, and each input
 * is judged as the random runs judge it. Jazzer's {@code FuzzedDataProvider} is played here by a list of ints.
 */
class FuzzHarnessTest {
    private static final byte[] A = "first seed".getBytes(StandardCharsets.UTF_8), B = "second seed".getBytes(StandardCharsets.UTF_8);

    /** Replays {@code ints} as consumeInt() answers; the only method DataRandom calls. */
    private static FuzzedDataProvider data(int... ints) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * ints.length);
        for (int i : ints) buffer.putInt(i);
        buffer.flip();
        return (FuzzedDataProvider) Proxy.newProxyInstance(FuzzHarnessTest.class.getClassLoader(), new Class<?>[] {FuzzedDataProvider.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "consumeInt" -> buffer.remaining() >= 4 ? buffer.getInt() : 0;
                    case "remainingBytes" -> buffer.remaining();
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    /** A failure names the run's seed and the commands that replay the run and the one input, for this very test. */
    @Test
    void aFailureNamesTheSeedAndHowToReplayIt() {
        FuzzHarness.Report report = new FuzzHarness.Fuzzing("deliberate-failure", List.of(A), (r, in, pool) -> in,
                in -> { throw new IllegalStateException("not documented"); }, t -> false).run();
        assertEquals(FuzzHarness.SEED, report.seed());
        String message = assertThrows(AssertionError.class, report::assertNoFailures).getMessage();
        String command = "./bertj test -pl test-support -am -Dtest=FuzzHarnessTest#aFailureNamesTheSeedAndHowToReplayIt"
                + " -Dsurefire.failIfNoSpecifiedTests=false";
        assertTrue(message.startsWith("fuzz target deliberate-failure (seed " + FuzzHarness.SEED + "): 1 distinct failure(s)"), message);
        assertTrue(message.contains("Replay this run: " + command + " -Dbertj.fuzz.seed=" + FuzzHarness.SEED), message);
        assertTrue(message.contains("Replay one input: " + command + " -Dbertj.fuzz.replay=FILE"), message);
    }

    @Test
    void theFuzzersBytesChooseTheStartAndTheMutations() {
        List<byte[]> ran = new ArrayList<>();
        FuzzHarness.Mutator appendX = (r, in, pool) -> FuzzMutator.concat(in, new byte[] {'x'});
        FuzzHarness.Fuzzing f = new FuzzHarness.Fuzzing("guided-choices", List.of(A, B), appendX, ran::add, t -> false);
        f.guided(data(0, 0));                    // choices 0: the first seed, unmutated
        // nextInt(bound) takes the top 31 bits of an int: all bits set picks the last of 2 starts; 3 << 28 asks for 3 mutations
        f.guided(data(-1, 3 << 28));
        assertArrayEquals(A, ran.get(0));
        assertArrayEquals("second seedxxx".getBytes(StandardCharsets.UTF_8), ran.get(1));
    }

    /** Once the fuzzer's bytes run out the choices go on pseudo-randomly: a Gaussian, drawn until it fits, still ends. */
    @Test
    void choicesGoOnWhenTheBytesRunOut() {
        double[] drawn = new double[1];
        FuzzHarness.Mutator gaussian = (r, in, pool) -> {
            drawn[0] = r.nextGaussian();
            return in;
        };
        new FuzzHarness.Fuzzing("guided-gaussian", List.of(A), gaussian, in -> { }, t -> false).guided(data(0, 1 << 28));
        assertTrue(Double.isFinite(drawn[0]) && drawn[0] != 0, "drew " + drawn[0]);
    }

    @Test
    void aFailureIsSavedAsTheInputItselfAndThrown() throws Exception {
        FuzzHarness.Fuzzing documented = new FuzzHarness.Fuzzing("guided-failure", List.of(A), (r, in, pool) -> in,
                in -> { throw new IllegalArgumentException("a documented refusal"); }, t -> t instanceof IllegalArgumentException);
        documented.guided(data(0, 0));               // rejected with a documented exception: not a finding
        FuzzHarness.Fuzzing undocumented = new FuzzHarness.Fuzzing("guided-failure", List.of(A), (r, in, pool) -> in,
                in -> { throw new IllegalStateException("not documented"); }, t -> t instanceof IllegalArgumentException);
        AssertionError e = assertThrows(AssertionError.class, () -> undocumented.guided(data(0, 0)));
        assertTrue(e.getMessage().startsWith("fuzz target guided-failure: java.lang.IllegalStateException at "), e.getMessage());
        Path saved = Path.of(e.getMessage().replaceAll("(?s).*input saved as (\\S+)\\).*", "$1"));
        assertArrayEquals(A, Files.readAllBytes(saved));
        assertEquals(Path.of("target", "fuzz-failures", "guided-failure"), saved.getParent());
    }
}
