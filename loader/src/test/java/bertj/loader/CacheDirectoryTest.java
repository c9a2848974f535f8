package bertj.loader;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CacheDirectoryTest {
    @Test
    void precedence() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/p"), CacheDirectory.root("/p", Map.of("BERTJ_CACHE", "/e", "XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/e"), CacheDirectory.root(null, Map.of("BERTJ_CACHE", "/e", "XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/x/bertj"), CacheDirectory.root("", Map.of("XDG_CACHE_HOME", "/x"), home));
        assertEquals(Path.of("/home/u/.cache/bertj"), CacheDirectory.root(null, Map.of("XDG_CACHE_HOME", "relative"), home));
        assertEquals(Path.of("/home/u/.cache/bertj"), CacheDirectory.root(null, Map.of(), home));
    }
}
