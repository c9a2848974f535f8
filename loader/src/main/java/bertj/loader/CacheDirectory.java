package bertj.loader;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where bertj keeps files it derives from models (the converted default model, packed weights). First match
 * wins: system property {@code bertj.cacheDir}, environment variable {@code BERTJ_CACHE},
 * {@code $XDG_CACHE_HOME/bertj}, {@code ~/.cache/bertj}. It need not exist.
 */
public final class CacheDirectory {
    private CacheDirectory() {
    }

    public static Path root() {
        return root(System.getProperty("bertj.cacheDir"), System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static Path root(String property, Map<String, String> env, Path home) {
        if (property != null && !property.isBlank()) return Path.of(property);
        String bertjCache = env.get("BERTJ_CACHE");
        if (bertjCache != null && !bertjCache.isBlank()) return Path.of(bertjCache);
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) return Path.of(xdg, "bertj"); // XDG: ignore relative paths
        return home.resolve(".cache").resolve("bertj");
    }
}
