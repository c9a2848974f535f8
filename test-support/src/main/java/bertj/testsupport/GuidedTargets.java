package bertj.testsupport;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.util.HashMap;
import java.util.Map;

/**
 * A test instance's guided fuzz targets: each is set up (seeds made, files written) at its first execution under
 * Jazzer and reused by the rest of the run, which calls the {@code @FuzzTest} method once per input.
 */
public final class GuidedTargets {
    /** Makes a target's {@link FuzzHarness.Fuzzing}, as its random-mutation test does. */
    public interface SetUp {
        FuzzHarness.Fuzzing make() throws Exception;
    }

    private final Map<String, FuzzHarness.Fuzzing> made = new HashMap<>();

    /** One guided execution of {@code target} (see {@link FuzzHarness.Fuzzing#guided}). */
    public void execute(FuzzedDataProvider data, String target, SetUp setUp) throws Exception {
        FuzzHarness.Fuzzing f = made.get(target);
        if (f == null) made.put(target, f = setUp.make());
        f.guided(data);
    }
}
