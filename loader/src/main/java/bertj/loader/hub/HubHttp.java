package bertj.loader.hub;

import bertj.loader.hub.HubException.Reason;
import bertj.loader.hub.HubResponses.Head;
import bertj.loader.hub.HubResponses.Headers;
import bertj.loader.hub.HubResponses.Target;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two requests of the Hub's download protocol, over {@link HttpURLConnection} (whose read timeout also
 * bounds a stalled body): HEAD for a file's metadata, following the Hub's relative redirects; GET of the
 * download location, from a byte offset. The token goes only to the endpoint's own host.
 */
final class HubHttp {
    private static final int MAX_REDIRECTS = 10;
    private static final int BUFFER = 1 << 16;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final String USER_AGENT = "bertj; java/" + Runtime.version().feature();

    private final HubSettings settings;

    HubHttp(HubSettings settings) {
        this.settings = settings;
    }

    /** Receives a download's bytes. */
    interface Sink {
        /** The body starts at {@code offset}: the offset asked for, or 0 when the server sends the whole file. */
        void begin(long offset) throws IOException;

        void write(byte[] buffer, int length) throws IOException;
    }

    /**
     * HEAD of a file's resolve URL, following relative redirects; a redirect elsewhere (the CDN) ends it and
     * becomes the download location.
     *
     * @throws HubException for an error answer ({@link Reason#NETWORK} when the server cannot be reached)
     */
    Head head(URI url, Target target) {
        URI current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpURLConnection c = open(current, "HEAD", settings.metadataTimeout().toMillis(), target);
            try {
                int status = status(c, target);
                Headers headers = new Headers(c.getHeaderFields());
                String location = headers.get("Location");
                if (status >= 300 && status <= 399 && location != null && HubResponses.relative(location)) {
                    current = HubResponses.redirect(current, status, headers, target);
                    continue;
                }
                return HubResponses.metadata(current, status, headers, target);
            } finally {
                c.disconnect();
            }
        }
        throw HubResponses.protocol(target, "more than " + MAX_REDIRECTS + " redirects");
    }

    /**
     * GETs {@code url} from byte {@code from} into {@code sink}, following absolute redirects, and returns the
     * number of bytes the body held.
     *
     * @throws IOException when the connection fails or drops (the caller resumes)
     * @throws HubException for an error answer
     */
    long get(URI url, long from, Sink sink, Target target) throws IOException {
        URI current = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpURLConnection c = open(current, "GET", settings.readTimeout().toMillis(), target);
            if (from > 0) c.setRequestProperty("Range", "bytes=" + from + "-");
            boolean complete = false;
            try {
                int status = c.getResponseCode();
                Headers headers = new Headers(c.getHeaderFields());
                URI next = HubResponses.redirect(current, status, headers, target);
                if (next != null) {
                    current = next;
                    continue;
                }
                long offset;
                if (status == 206) offset = rangeStart(headers, from, target);
                else if (status == 200) offset = 0;
                else if (status == 416) throw new IOException("the server cannot send bytes from " + from + " (HTTP 416)");
                else throw HubResponses.error(status, headers, target);
                sink.begin(offset);
                long n = 0;
                try (InputStream in = c.getInputStream()) {
                    byte[] buffer = new byte[BUFFER];
                    for (int r; (r = in.read(buffer)) > 0; ) {
                        sink.write(buffer, r);
                        n += r;
                    }
                }
                complete = true;
                return n;
            } finally {
                if (!complete) c.disconnect(); // a body read halfway leaves no connection to reuse
            }
        }
        throw HubResponses.protocol(target, "more than " + MAX_REDIRECTS + " redirects");
    }

    private HttpURLConnection open(URI url, String method, long timeoutMillis, Target target) {
        try {
            HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection();
            c.setRequestMethod(method);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            c.setReadTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            c.setUseCaches(false);
            c.setRequestProperty("User-Agent", USER_AGENT);
            c.setRequestProperty("Accept-Encoding", "identity");
            if (settings.hasToken() && sameOrigin(url, settings.endpoint())) {
                c.setRequestProperty("Authorization", "Bearer " + settings.token());
            }
            return c;
        } catch (IOException | IllegalArgumentException e) {
            throw new HubException(Reason.NETWORK, target.where() + ": cannot open " + url + ": " + describe(e), e);
        }
    }

    private int status(HttpURLConnection c, Target target) {
        try {
            return c.getResponseCode();
        } catch (IOException e) {
            throw new HubException(Reason.NETWORK, "cannot reach " + settings.endpoint() + " for " + target.where() + ": "
                    + describe(e), e);
        }
    }

    static long rangeStart(Headers headers, long from, Target target) {
        String range = headers.get("Content-Range");
        Matcher m = range == null ? null : CONTENT_RANGE.matcher(range.strip());
        if (m == null || !m.matches()) {
            throw HubResponses.protocol(target, "HTTP 206 with Content-Range \"" + (range == null ? "" : HubResponses.clean(range)) + "\"");
        }
        long start;
        try {
            start = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            start = -1;
        }
        if (start != from) {
            throw HubResponses.protocol(target, "asked for bytes from " + from + ", the server sent from " + m.group(1));
        }
        return start;
    }

    /** Same scheme, host and port: the only place the token may go. */
    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() != -1) return u.getPort();
        return "https".equals(u.getScheme().toLowerCase(Locale.ROOT)) ? 443 : 80;
    }

    /** An I/O failure in words, e.g. "connection refused" or "read timed out". */
    static String describe(Exception e) {
        String m = e.getMessage();
        String kind = e.getClass().getSimpleName();
        return m == null || m.isBlank() ? kind : HubResponses.clean(kind.equals("IOException") ? m : kind + ": " + m);
    }
}
