package bertj.loader.hub;

import bertj.loader.hub.HubException.Reason;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What the Hub's answers mean, from their status and headers alone (no I/O): a file's commit, etag, size and
 * download location, or the error to report. Follows {@code huggingface_hub}'s {@code get_hf_file_metadata}
 * and {@code hf_raise_for_status}.
 */
final class HubResponses {
    static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** An etag becomes a file name in blobs/: nothing that could climb out of it or hide there. */
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}");
    private static final int MAX_SERVER_MESSAGE = 300;

    private HubResponses() {
    }

    /** One file of one model, as the messages name it. */
    record Target(String repo, String revision, String file, URI endpoint, boolean hasToken) {
        String where() {
            return repo + "@" + revision + ": " + file;
        }
    }

    /** What a HEAD request says about a file. */
    sealed interface Head permits FileMetadata, Missing {
    }

    /** The file does not exist at that revision; {@code commit} (null if the server did not say) is the revision's commit. */
    record Missing(String commit) implements Head {
    }

    /** A file's metadata: the commit it was resolved at, its blob name, its size and where to download it. */
    record FileMetadata(String commit, String etag, long size, URI location) implements Head {
        /** Git LFS files have the sha256 of their content as etag; other files the git blob id. */
        boolean lfs() {
            return SHA256.matcher(etag).matches();
        }
    }

    /** Response headers, looked up without regard to case; the first value of each. */
    static final class Headers {
        private final Map<String, String> first = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

        Headers(Map<String, List<String>> fields) {
            fields.forEach((name, values) -> {
                if (name != null && values != null && !values.isEmpty() && values.getFirst() != null) {
                    first.putIfAbsent(name, values.getFirst());
                }
            });
        }

        String get(String name) {
            return first.get(name);
        }
    }

    /**
     * The target of a redirect (3xx) resolved against the request's URL, or null when the answer is not one.
     *
     * @throws HubException when a redirect has no usable Location
     */
    static URI redirect(URI request, int status, Headers headers, Target target) {
        if (status < 300 || status > 399 || status == 304) return null;
        String location = headers.get("Location");
        if (location == null || location.isBlank()) {
            throw protocol(target, "HTTP " + status + " redirect without a Location header");
        }
        URI resolved;
        try {
            resolved = request.resolve(new URI(location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw protocol(target, "HTTP " + status + " redirect to an invalid Location \"" + clean(location) + "\"");
        }
        String scheme = resolved.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || resolved.getHost() == null) {
            throw protocol(target, "HTTP " + status + " redirect to \"" + clean(location) + "\", which is not an http(s) URL");
        }
        return resolved;
    }

    /** A Location without scheme and host: the Hub's own redirect (a renamed model), followed by the metadata request. */
    static boolean relative(String location) {
        try {
            URI uri = new URI(location.strip());
            return uri.getScheme() == null && uri.getRawAuthority() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /**
     * The metadata in the answer to a HEAD request: a 2xx, or a 3xx to the file's download location (the CDN);
     * or, for a 404 that the Hub gives a missing file, that it is missing.
     *
     * @param url the URL that was asked, after relative redirects
     * @throws HubException for an error status, or headers the Hub would not send
     */
    static Head metadata(URI url, int status, Headers headers, Target target) {
        String commit = headers.get("X-Repo-Commit");
        HubException error = status >= 200 && status <= 399 ? null : error(status, headers, target);
        if (error != null && error.reason() == Reason.ENTRY_NOT_FOUND) {
            return new Missing(commit != null && ModelName.COMMIT.matcher(commit.strip()).matches() ? commit.strip() : null);
        }
        if (error != null) throw error;
        URI location;
        if (status <= 299) location = url;
        else if ((location = redirect(url, status, headers, target)) == null) throw error(status, headers, target);
        if (commit == null || !ModelName.COMMIT.matcher(commit.strip()).matches()) {
            throw protocol(target, commit == null ? "no X-Repo-Commit header (is " + target.endpoint() + " a Hugging Face Hub?)"
                    : "X-Repo-Commit \"" + clean(commit) + "\" is not a 40-hex commit");
        }
        String etagHeader = headers.get("X-Linked-Etag");
        if (etagHeader == null) etagHeader = headers.get("ETag");
        if (etagHeader == null) throw protocol(target, "no ETag header, so its content cannot be named in the cache");
        String etag = normalizeEtag(etagHeader);
        if (!SAFE_ETAG.matcher(etag).matches() || etag.endsWith(".incomplete") || etag.endsWith(".lock")) {
            throw protocol(target, "ETag \"" + clean(etagHeader) + "\" cannot name a file in the cache");
        }
        String sizeHeader = headers.get("X-Linked-Size");
        if (sizeHeader == null) sizeHeader = headers.get("Content-Length");
        if (sizeHeader == null) throw protocol(target, "no X-Linked-Size or Content-Length header");
        long size;
        try {
            size = Long.parseLong(sizeHeader.strip());
        } catch (NumberFormatException e) {
            size = -1;
        }
        if (size < 0) throw protocol(target, "size \"" + clean(sizeHeader) + "\" is not a byte count");
        return new FileMetadata(commit.strip(), etag, size, location);
    }

    /** {@code "abc"} and {@code W/"abc"} are both {@code abc}. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    /** The failure an error status stands for, with the Hub's own X-Error-Code deciding where it gives one. */
    static HubException error(int status, Headers headers, Target target) {
        String code = headers.get("X-Error-Code");
        String serverMessage = headers.get("X-Error-Message");
        String said = serverMessage == null || serverMessage.isBlank() ? "" : " (the server says: " + clean(serverMessage) + ")";
        String model = target.repo();
        String page = target.endpoint() + "/" + model;
        String tokenHint = target.hasToken() ? "the token given" : "no token is set (HF_TOKEN, or a token file from `hf auth login`)";
        if ("RevisionNotFound".equals(code)) {
            return new HubException(Reason.REVISION_NOT_FOUND, model + " has no revision \"" + target.revision()
                    + "\" on " + target.endpoint() + " (HTTP " + status + ")" + said);
        }
        if ("EntryNotFound".equals(code) || status == 404 && code == null) {
            return new HubException(Reason.ENTRY_NOT_FOUND, target.where() + ": no such file (HTTP " + status + ")" + said);
        }
        if ("GatedRepo".equals(code)) {
            return new HubException(Reason.GATED, model + " is a gated model: accept its conditions at " + page
                    + " and use a token of that account; " + (target.hasToken() ? "the token given has no access" : tokenHint)
                    + " (HTTP " + status + ")" + said);
        }
        if ("RepoNotFound".equals(code) || status == 401 && code == null) {
            return new HubException(Reason.REPO_NOT_FOUND, target.endpoint() + " has no model " + model
                    + ", or it is private and " + tokenHint + (target.hasToken() ? " cannot see it" : "")
                    + " (HTTP " + status + ")" + said);
        }
        if (status == 401 || status == 403) {
            return new HubException(Reason.ACCESS_DENIED, target.where() + ": access denied with " + tokenHint
                    + " (HTTP " + status + (code == null ? "" : ", " + clean(code)) + ")" + said);
        }
        if (status == 429 || status >= 500 && status <= 599) {
            return new HubException(Reason.SERVER, target.where() + ": " + target.endpoint() + " answered HTTP " + status + said);
        }
        return protocol(target, "unexpected HTTP " + status + (code == null ? "" : " " + clean(code)) + said);
    }

    static HubException protocol(Target target, String problem) {
        return new HubException(Reason.PROTOCOL, target.where() + ": " + problem);
    }

    /** Server text for a message: one line of printable characters, cut short. */
    static String clean(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(MAX_SERVER_MESSAGE).forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return s.codePointCount(0, s.length()) > MAX_SERVER_MESSAGE ? sb.append("...").toString().strip() : sb.toString().strip();
    }
}
