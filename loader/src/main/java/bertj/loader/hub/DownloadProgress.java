package bertj.loader.hub;

/** Told how downloads go; called from the downloading thread. */
public interface DownloadProgress {
    /** {@code done} of {@code total} bytes of {@code file} are on disk ({@code done} may start above 0 when resuming). */
    void update(String file, long done, long total);

    /** The file is complete and checked. */
    void finished(String file, long total);

    /** Something the user should know, such as a fall-back to the cache. */
    void warn(String message);

    /** Reports nothing. */
    DownloadProgress SILENT = new DownloadProgress() {
        @Override
        public void update(String file, long done, long total) {
        }

        @Override
        public void finished(String file, long total) {
        }

        @Override
        public void warn(String message) {
        }
    };

    /** Reports to standard error: a line redrawn in place on a terminal, else one line per file. */
    static DownloadProgress toStandardError() {
        java.io.Console console = System.console();
        return new ConsoleProgress(System.err, console != null && console.isTerminal());
    }
}
