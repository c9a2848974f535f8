package bertj.loader.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where and how models are fetched, read from the environment as {@code huggingface_hub} reads it:
 *
 * <ul>
 *   <li>cache: {@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
 *       else {@code ~/.cache/huggingface/hub};
 *   <li>endpoint: {@code HF_ENDPOINT}, else {@code https://huggingface.co};
 *   <li>token: {@code HF_TOKEN}, else the file {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token};
 *   <li>offline: {@code HF_HUB_OFFLINE} set to 1, true, yes or on;
 *   <li>timeouts: {@code HF_HUB_ETAG_TIMEOUT} for a file's metadata, {@code HF_HUB_DOWNLOAD_TIMEOUT} for each
 *       read of a download, in seconds (10 each by default).
 * </ul>
 *
 * The token is never shown: not by {@link #toString()}, nor in any message.
 */
public final class HubSettings {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final Set<String> TRUE = Set.of("1", "TRUE", "YES", "ON");

    private final Path cache;
    private final URI endpoint;
    private final String token;
    private final boolean offline;
    private final Duration metadataTimeout, readTimeout;
    private final int attempts;
    private final Duration retryDelay;

    private HubSettings(Path cache, URI endpoint, String token, boolean offline, Duration metadataTimeout,
                        Duration readTimeout, int attempts, Duration retryDelay) {
        this.cache = cache;
        this.endpoint = endpoint;
        this.token = token;
        this.offline = offline;
        this.metadataTimeout = metadataTimeout;
        this.readTimeout = readTimeout;
        this.attempts = attempts;
        this.retryDelay = retryDelay;
    }

    /** The settings of this process's environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /**
     * The settings an environment gives.
     *
     * @throws IllegalArgumentException naming the variable, if one is set to something unusable
     */
    public static HubSettings fromEnvironment(Map<String, String> env, Path home) {
        Path hfHome = path(env, "HF_HOME", home);
        if (hfHome == null) {
            Path xdg = path(env, "XDG_CACHE_HOME", home);
            hfHome = (xdg != null ? xdg : home.resolve(".cache")).resolve("huggingface");
        }
        Path cache = path(env, "HF_HUB_CACHE", home);
        if (cache == null) cache = hfHome.resolve("hub");
        String token = clean(env.get("HF_TOKEN"));
        if (token == null) {
            Path tokenFile = path(env, "HF_TOKEN_PATH", home);
            token = readToken(tokenFile != null ? tokenFile : hfHome.resolve("token"));
        }
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "");
        return new HubSettings(cache, endpoint(env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT), "HF_ENDPOINT"), token,
                TRUE.contains(offline.strip().toUpperCase(Locale.ROOT)),
                seconds(env, "HF_HUB_ETAG_TIMEOUT"), seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT"), 5, Duration.ofSeconds(1));
    }

    /** Online, without a token, with the default timeouts. */
    public static HubSettings of(Path cache, String endpoint) {
        return new HubSettings(cache, endpoint(endpoint, "endpoint"), null, false, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, 5,
                Duration.ofSeconds(1));
    }

    public HubSettings withToken(String newToken) {
        return new HubSettings(cache, endpoint, clean(newToken), offline, metadataTimeout, readTimeout, attempts, retryDelay);
    }

    public HubSettings withOffline(boolean newOffline) {
        return new HubSettings(cache, endpoint, token, newOffline, metadataTimeout, readTimeout, attempts, retryDelay);
    }

    public HubSettings withTimeouts(Duration metadata, Duration read) {
        return new HubSettings(cache, endpoint, token, offline, metadata, read, attempts, retryDelay);
    }

    /** How often a download or a request answered with a server error is tried, and the first wait between tries (doubling). */
    public HubSettings withRetries(int newAttempts, Duration firstDelay) {
        if (newAttempts < 1) throw new IllegalArgumentException("attempts must be at least 1, got " + newAttempts);
        return new HubSettings(cache, endpoint, token, offline, metadataTimeout, readTimeout, newAttempts, firstDelay);
    }

    public Path cache() {
        return cache;
    }

    /** The Hub's base URL, without a trailing slash. */
    public URI endpoint() {
        return endpoint;
    }

    public boolean offline() {
        return offline;
    }

    public boolean hasToken() {
        return token != null;
    }

    /** The token itself: only for the Authorization header. */
    String token() {
        return token;
    }

    public Duration metadataTimeout() {
        return metadataTimeout;
    }

    public Duration readTimeout() {
        return readTimeout;
    }

    public int attempts() {
        return attempts;
    }

    public Duration retryDelay() {
        return retryDelay;
    }

    @Override
    public String toString() {
        return "HubSettings[cache=" + cache + ", endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + "]";
    }

    /** An environment variable as a path ("~" is the home directory); null when unset or empty. */
    private static Path path(Map<String, String> env, String name, Path home) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return null;
        try {
            if (v.equals("~")) return home;
            if (v.startsWith("~/")) return home.resolve(v.substring(2));
            return Path.of(v);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(name + " is not a valid path: " + e.getReason());
        }
    }

    private static URI endpoint(String value, String name) {
        String v = value.strip();
        while (v.endsWith("/")) v = v.substring(0, v.length() - 1);
        try {
            URI uri = new URI(v);
            if (!("https".equalsIgnoreCase(uri.getScheme()) || "http".equalsIgnoreCase(uri.getScheme())) || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException(name + " must be an http(s) URL such as " + DEFAULT_ENDPOINT + ", got \"" + v + "\"");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(name + " is not a valid URL: " + e.getReason());
        }
    }

    private static Duration seconds(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return DEFAULT_TIMEOUT;
        try {
            double s = Double.parseDouble(v.strip());
            if (s > 0 && s <= 86_400) return Duration.ofMillis(Math.max(1, Math.round(s * 1000)));
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a number of seconds (0 to 86400), got \"" + v.strip() + "\"");
    }

    private static String readToken(Path file) {
        try {
            return Files.isRegularFile(file) ? clean(Files.readString(file)) : null;
        } catch (IOException | RuntimeException e) {
            return null; // an unreadable token file is as good as none
        }
    }

    /** huggingface_hub's rule: surrounding blanks and line breaks are dropped; empty means none. */
    private static String clean(String token) {
        if (token == null) return null;
        String t = token.replace("\r", "").replace("\n", "").strip();
        return t.isEmpty() ? null : t;
    }
}
