package bertj.loader.hub;

import bertj.testsupport.FakeHub;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fake Hub per test, and an empty cache. */
abstract class WithFakeHub {
    FakeHub hub;
    @TempDir
    Path cache;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    /** The Range header of each request the CDN got, in order ("null" for none). */
    List<String> cdnRanges() {
        return hub.requests().stream().filter(r -> r.host().equals(FakeHub.CDN)).map(r -> String.valueOf(r.range())).toList();
    }
}
