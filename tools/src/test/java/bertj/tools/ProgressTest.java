package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress line: silent for short jobs, redrawn on a terminal, a line every 10 s in a log, ETA from bytes. */
class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aLogGetsALineEveryTenSecondsAfterTheFirstTwo() {
        StringWriter text = new StringWriter();
        AtomicLong now = new AtomicLong();
        Progress p = new Progress(new PrintWriter(text, true), 2_000_000, false, now::get);
        now.set(SECOND);
        p.update(100, 100_000);
        assertEquals("", text.toString(), "silent in the first two seconds");
        now.set(4 * SECOND);
        p.update(2_000, 1_000_000);
        now.set(9 * SECOND);
        p.update(3_000, 1_500_000);
        now.set(15 * SECOND);
        p.update(4_000, 1_900_000);
        p.finish();
        assertEquals("bertj: 2,000 lines, 500 lines/s, 50% of 2.0 MB, about 4 s left\n"
                + "bertj: 4,000 lines, 267 lines/s, 95% of 2.0 MB, about 1 s left\n", text.toString());
    }

    @Test
    void aTerminalGetsOneLineRedrawnInPlace() {
        StringWriter text = new StringWriter();
        AtomicLong now = new AtomicLong();
        Progress p = new Progress(new PrintWriter(text, true), -1, true, now::get);
        now.set(3 * SECOND);
        p.update(300, 10);
        now.set(4 * SECOND);
        p.update(400, 20);
        p.finish();
        assertEquals("\rbertj: 300 lines, 100 lines/s\u001b[K\rbertj: 400 lines, 100 lines/s\u001b[K\n", text.toString());
    }

    @Test
    void notShownWhenQuietOrForAnotherStream() {
        StringWriter text = new StringWriter();
        assertEquals(null, Progress.forStdin(System.in, new PrintWriter(text), true));
        assertEquals(null, Progress.forStdin(new java.io.ByteArrayInputStream(new byte[0]), new PrintWriter(text), false));
    }
}
