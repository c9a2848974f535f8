package bertj.tools;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

/**
 * The CLI's standard output and error: UTF-8 whatever the locale, and lossless. A lone surrogate (a Java string may
 * hold one; UTF-8 cannot) is written as the escape {@code \uD800}, where an {@link OutputStreamWriter} would write a
 * {@code ?}. JSON output is ASCII anyway ({@link JsonLines}); this covers messages and plain text such as
 * {@code inspect}'s tensor names.
 */
final class LosslessUtf8Writer extends Writer {
    private final Writer out;
    /** A high surrogate at the end of the last write, waiting for its low half; 0 when there is none. */
    private char pendingHigh;

    LosslessUtf8Writer(OutputStream stream) {
        this.out = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
        int end = off + len, run = off;
        for (int i = off; i < end; i++) {
            char c = buf[i];
            if (pendingHigh != 0) { // only at i == off: the pair split across two writes
                char high = pendingHigh;
                pendingHigh = 0;
                if (Character.isLowSurrogate(c)) {
                    out.write(high);
                    out.write(c);
                    run = i + 1;
                    continue;
                }
                escape(high);
            }
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == end) { // its low half may come with the next write
                    out.write(buf, run, i - run);
                    pendingHigh = c;
                    run = end;
                    continue;
                }
                if (Character.isLowSurrogate(buf[i + 1])) {
                    i++;
                    continue;
                }
            }
            out.write(buf, run, i - run);
            escape(c);
            run = i + 1;
        }
        if (run < end) out.write(buf, run, end - run);
    }

    private void escape(char c) throws IOException {
        out.write(String.format("\\u%04X", (int) c));
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (pendingHigh != 0) escape(pendingHigh);
        pendingHigh = 0;
        out.close();
    }
}
