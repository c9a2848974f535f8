package bertj.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of a long stdin job on stderr: lines done, their rate, and, when stdin is a file, how much of it
 * is read and the time left; or of a job of known size ({@link #ofCount}): done of total, the rate and the time left. On a terminal the line is redrawn in place as it changes; elsewhere (a log) a line is
 * written every {@value #LOG_EVERY_SECONDS} s. Nothing is written in the first {@value #QUIET_SECONDS} s, so short
 * jobs stay silent, nor at all with {@code --quiet}.
 */
final class Progress {
    static final int QUIET_SECONDS = 2;
    static final int LOG_EVERY_SECONDS = 10;

    private final PrintWriter err;
    /** What a counted job does ("epoch 3/10"), null for a stdin job. */
    private final String task;
    private final String unit;
    private final long totalBytes;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long start;
    private long lastShown;
    private boolean shown;

    /**
     * @param totalBytes the size of stdin when it is a regular file, else -1
     * @param terminal   whether stderr is a terminal (the line is then redrawn)
     */
    Progress(PrintWriter err, long totalBytes, boolean terminal) {
        this(err, totalBytes, terminal, System::nanoTime);
    }

    /** With {@code clock} in nanoseconds, for tests. */
    Progress(PrintWriter err, long totalBytes, boolean terminal, LongSupplier clock) {
        this(err, null, "lines", totalBytes, terminal, clock);
    }

    private Progress(PrintWriter err, String task, String unit, long total, boolean terminal, LongSupplier clock) {
        this.err = err;
        this.task = task;
        this.unit = unit;
        this.totalBytes = total;
        this.terminal = terminal;
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    /** For the process's own stdin and stderr, or null with {@code quiet} or when stdin is not the process's. */
    static Progress forStdin(InputStream in, PrintWriter err, boolean quiet) {
        if (quiet || in != System.in) return null;
        return new Progress(err, stdinFileSize(), isTerminal(2));
    }

    /**
     * A job of {@code total} {@code unit}s, such as "epoch 3/10" over examples; {@link #update} takes the count done
     * twice. Null with {@code quiet}.
     */
    static Progress ofCount(PrintWriter err, String task, String unit, long total, boolean quiet) {
        return quiet ? null : new Progress(err, task, unit, total, isTerminal(2), System::nanoTime);
    }

    /** After each batch: {@code lines} answered so far, {@code bytes} of stdin read so far. */
    void update(long lines, long bytes) {
        long now = clock.getAsLong();
        double seconds = (now - start) / 1e9;
        if (seconds < QUIET_SECONDS) return;
        if (!terminal && shown && (now - lastShown) / 1e9 < LOG_EVERY_SECONDS) return;
        lastShown = now;
        shown = true;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "bertj: %s%,d %s, %,.0f %s/s",
                task == null ? "" : task + ": ", lines, unit, lines / seconds, unit));
        if (task != null && totalBytes > 0) {
            double done = Math.min(1, (double) lines / totalBytes);
            line.append(String.format(Locale.ROOT, ", %.0f%% of %,d, about %s left", 100 * done, totalBytes,
                    duration(done == 0 ? 0 : seconds * (1 - done) / done)));
        } else if (totalBytes > 0 && bytes > 0) {
            double done = Math.min(1, (double) bytes / totalBytes);
            line.append(String.format(Locale.ROOT, ", %.0f%% of %.1f MB, about %s left", 100 * done, totalBytes / 1e6,
                    duration(seconds * (1 - done) / done)));
        }
        if (terminal) {
            err.print("\r" + line + "\u001b[K"); // clear what a longer earlier line left
            err.flush();
        } else {
            err.println(line);
        }
    }

    /** Ends the redrawn line on a terminal. */
    void finish() {
        if (terminal && shown) {
            err.println();
        }
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60.0) + " min" : Math.round(s / 3600.0) + " h";
    }

    /** The size of this process's stdin when it is a regular file (Linux's /proc), else -1. */
    private static long stdinFileSize() {
        try {
            Path stdin = Path.of("/proc/self/fd/0");
            return Files.isRegularFile(stdin) ? Files.size(stdin) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Whether file descriptor {@code fd} of this process is a terminal (Linux's /proc), false when unknown. */
    private static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
