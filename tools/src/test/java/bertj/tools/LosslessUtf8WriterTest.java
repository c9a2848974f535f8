package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI's text is UTF-8, and a lone surrogate in it is written as an escape rather than as '?'. */
class LosslessUtf8WriterTest {
    @Test
    void writesUtf8AndEscapesLoneSurrogates() throws IOException {
        assertEquals("caf\u00e9 \ud83d\ude00 \u6771", written("caf\u00e9 \ud83d\ude00 \u6771"));
        assertEquals("a\\uD800b \\uDC00 x\\uDBFF", written("a\ud800b \udc00 x\udbff"));
        assertEquals("\\uDC00\\uD800", written("\udc00\ud800"));
        // a pair split across two writes stays a pair; a high surrogate at the very end is escaped on close
        assertEquals("\ud83d\ude00 and \\uD83D", written("\ud83d", "\ude00 and \ud83d"));
        assertEquals("\\uD83D\ud83d\ude00", written("\ud83d", "\ud83d", "\ude00"));
    }

    private static String written(String... pieces) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (LosslessUtf8Writer w = new LosslessUtf8Writer(bytes)) {
            for (String p : pieces) w.write(p);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
