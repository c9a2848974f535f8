package bertj.loader.hub;

import java.util.regex.Pattern;

/**
 * A model on the Hugging Face Hub: {@code org/name} or a bare {@code name} (an old, unprefixed model such as
 * {@code bert-base-uncased}), at a revision: a branch, a tag or a 40-hex commit, {@code main} when not given.
 * Written {@code org/name@revision}.
 */
public record ModelName(String repo, String revision) {
    public static final String DEFAULT_REVISION = "main";
    /** huggingface_hub's repo id rule: one or two parts of word characters, '-' and '.', each starting and ending with a word character. */
    private static final Pattern REPO = Pattern.compile(
            "(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?/)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final int MAX_REPO_LENGTH = 96, MAX_REVISION_LENGTH = 255;
    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /** @throws IllegalArgumentException naming the problem, if either part is not valid */
    public ModelName {
        String problem = repoProblem(repo);
        if (problem == null) problem = revisionProblem(revision);
        if (problem != null) throw new IllegalArgumentException(problem);
    }

    /**
     * Reads {@code org/name}, {@code name} or either with {@code @revision}.
     *
     * @throws IllegalArgumentException naming the problem, if {@code text} is not a model name
     */
    public static ModelName parse(String text) {
        int at = text.indexOf('@');
        return at < 0 ? new ModelName(text, DEFAULT_REVISION) : new ModelName(text.substring(0, at), text.substring(at + 1));
    }

    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The same model at another revision. */
    public ModelName at(String otherRevision) {
        return new ModelName(repo, otherRevision);
    }

    /** True when the revision is a commit hash, which never moves. */
    public boolean pinned() {
        return COMMIT.matcher(revision).matches();
    }

    /** The model's folder in the cache, {@code models--org--name}. */
    public String folderName() {
        return HubCache.MODELS_PREFIX + repo.replace("/", "--");
    }

    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repo : repo + "@" + revision;
    }

    private static String repoProblem(String repo) {
        if (repo == null || repo.isEmpty()) return "model name is empty";
        if (repo.length() > MAX_REPO_LENGTH) return "model name \"" + shorten(repo) + "\" is longer than " + MAX_REPO_LENGTH + " characters";
        if (!REPO.matcher(repo).matches()) {
            return "\"" + shorten(repo) + "\" is not a Hugging Face model name (org/name or name: letters, digits, '_', '-' and '.', "
                    + "starting and ending with a letter, digit or '_')";
        }
        if (repo.contains("--") || repo.contains("..")) return "model name \"" + repo + "\" may not contain \"--\" or \"..\"";
        if (repo.endsWith(".git")) return "model name \"" + repo + "\" may not end in .git";
        return null;
    }

    /** Git's ref rules, as far as they keep the cache's refs/REVISION path inside refs/; printable ASCII only. */
    private static String revisionProblem(String revision) {
        if (revision == null || revision.isEmpty()) return "revision after '@' is empty";
        if (revision.length() > MAX_REVISION_LENGTH) return "revision is longer than " + MAX_REVISION_LENGTH + " characters";
        for (int i = 0; i < revision.length(); i++) {
            char c = revision.charAt(i);
            if (c <= ' ' || c >= 0x7F || "\\~^:?*[".indexOf(c) >= 0) {
                return "revision has a character bertj does not take in a git revision: " + String.format("U+%04X", (int) c);
            }
        }
        for (String part : revision.split("/", -1)) {
            if (part.isEmpty() || part.startsWith(".") || part.endsWith(".lock")) {
                return "revision \"" + shorten(revision) + "\" is not a valid git branch, tag or commit";
            }
        }
        return null;
    }

    private static String shorten(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }
}
