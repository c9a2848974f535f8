package bertj.loader.hub;

import java.io.Console;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

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
        return toConsole(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true), terminal());
    }

    /** Reports to {@code out}: on a {@code terminal}, one line redrawn in place; else a line when a file starts and ends. */
    static DownloadProgress toConsole(PrintWriter out, boolean terminal) {
        return new ConsoleProgress(out, terminal);
    }

    /** True when the process runs on a terminal, where a progress line can be redrawn. */
    static boolean terminal() {
        Console console = System.console();
        return console != null && console.isTerminal();
    }
}
