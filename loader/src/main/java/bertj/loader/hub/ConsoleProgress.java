package bertj.loader.hub;

import bertj.loader.Sizes;
import java.io.PrintWriter;
import java.util.Locale;

/** File name, bytes, rate and time left, on one line that a terminal redraws in place; else a line per file. */
final class ConsoleProgress implements DownloadProgress {
    private static final long REDRAW_NANOS = 100_000_000L;
    /** Without a terminal, a download this large is also announced when it starts. */
    private static final long ANNOUNCED_BYTES = 10_000_000L;

    private final PrintWriter out;
    private final boolean terminal;
    private final Clock clock;
    private String file;
    private long startNanos, startBytes, lastDrawNanos;
    private int lastWidth;

    /** The time source, so that rates can be checked without waiting. */
    interface Clock {
        long nanoTime();
    }

    ConsoleProgress(PrintWriter out, boolean terminal) {
        this(out, terminal, System::nanoTime);
    }

    ConsoleProgress(PrintWriter out, boolean terminal, Clock clock) {
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
    }

    @Override
    public synchronized void update(String name, long done, long total) {
        long now = clock.nanoTime();
        if (!name.equals(file)) {
            file = name;
            startNanos = now;
            startBytes = done;
            lastDrawNanos = 0;
            if (!terminal && (total >= ANNOUNCED_BYTES || done > 0)) { // small files get their one line when done
                out.println("bertj: downloading " + name + " (" + Sizes.decimal(total) + (done > 0 ? ", resuming at " + Sizes.decimal(done) : "") + ")");
                out.flush();
            }
        }
        if (terminal && (lastDrawNanos == 0 || now - lastDrawNanos >= REDRAW_NANOS)) {
            lastDrawNanos = now;
            draw(line(done, total, now) + "\r");
        }
    }

    @Override
    public synchronized void finished(String name, long total) {
        long now = clock.nanoTime();
        if (!name.equals(file)) {
            file = name;
            startNanos = now;
            startBytes = total;
        }
        String line = "bertj: " + name + "  " + Sizes.decimal(total) + "  " + rate(total - startBytes, now - startNanos) + "  done";
        if (terminal) {
            draw(line + "\n");
        } else {
            out.println(line);
            out.flush();
        }
        file = null;
        lastWidth = 0;
    }

    @Override
    public synchronized void warn(String message) {
        if (terminal && lastWidth > 0) draw("\n");
        lastWidth = 0;
        out.println("bertj: " + message);
        out.flush();
    }

    /** {@code file  12.3 MB / 90.9 MB  4.5 MB/s  ETA 17 s} */
    String line(long done, long total, long now) {
        long elapsed = now - startNanos;
        long moved = done - startBytes;
        String eta = "";
        if (moved > 0 && elapsed > 0 && total > done) {
            double seconds = (total - done) * (elapsed / 1e9) / moved;
            eta = "  ETA " + duration(seconds);
        }
        return "bertj: " + file + "  " + Sizes.decimal(done) + " / " + Sizes.decimal(total) + "  " + rate(moved, elapsed) + eta;
    }

    private void draw(String text) {
        String body = text.stripTrailing();
        int pad = Math.max(0, lastWidth - body.length());
        out.print(body + " ".repeat(pad) + text.substring(body.length()));
        out.flush();
        lastWidth = text.endsWith("\n") ? 0 : body.length();
    }

    private static String rate(long moved, long nanos) {
        if (nanos <= 0 || moved <= 0) return "-";
        return Sizes.decimal(Math.round(moved / (nanos / 1e9))) + "/s";
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }
}
