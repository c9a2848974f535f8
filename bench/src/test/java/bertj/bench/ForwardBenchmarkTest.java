package bertj.bench;

import bertj.engine.BaseModelOutputWithPooling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The JMH state's set-up and benchmark method, called directly (JMH itself is not run in unit tests). */
class ForwardBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void runsAForwardPassOfTheRequestedShape() {
        ForwardBenchmark bench = new ForwardBenchmark();
        bench.model = TinyModels.model(tmp, 1).toString();
        bench.seq = 16;
        bench.batch = 2;
        bench.threads = 2;
        bench.load();
        try {
            BaseModelOutputWithPooling out = bench.forward();
            assertEquals(2, out.lastHiddenState().length);
            assertEquals(16, out.lastHiddenState()[0].length);
            assertEquals(32, out.lastHiddenState()[0][0].length);
        } finally {
            bench.close();
        }
    }
}
