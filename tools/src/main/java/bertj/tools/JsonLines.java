package bertj.tools;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON as the model commands read and write it: JSON Lines {@code {"text": ..., "text_pair": ...}} in, one
 * ASCII-escaped object per line out (as Python's {@code json.dumps} writes it), and an input line that cannot
 * be used answered with {@code {"error": "line N: ..."}} (and the same on stderr) while the others go on.
 *
 * <p>Floats are written as {@link Float#toString(float)} does: the shortest decimal that reads back as the same
 * float, so nothing is lost. Offsets are converted from Java's UTF-16 indices to Unicode code points, as Python
 * counts them.
 */
public final class JsonLines {
    /**
     * The mapper of the commands' JSON, created at its first use rather than when picocli builds the commands at
     * start-up (creating an ObjectMapper takes 200-250 ms in a fresh JVM).
     */
    static ObjectMapper mapper() {
        return Mapper.INSTANCE;
    }

    private static final class Mapper {
        static final ObjectMapper INSTANCE = new ObjectMapper();
    }
    /** ASCII only, so lone surrogates survive as \\uXXXX; the caller's writer is left open. */
    private static final JsonFactory OUT = JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private JsonLines() {
    }

    /**
     * One input line: its 1-based number, text and pair (null for none; for {@code qa} the question and the
     * context), or why it cannot be used; and its {@code "id"} field, any JSON value, which the answer repeats
     * (null when the line has none).
     */
    public record Line(int number, String text, String pair, String error, JsonNode id) {
        public Line(int number, String text, String pair, String error) {
            this(number, text, pair, error, null);
        }

        static Line failed(int number, String error) {
            return new Line(number, null, null, error);
        }
    }

    /** Writes the line's {@code "id"} field, if it has one, into the object being written. */
    static void writeId(JsonGenerator json, Line line) throws IOException {
        if (line != null && line.id() != null) {
            json.writeFieldName("id");
            mapper().writeTree(json, line.id());
        }
    }

    /** A generator whose root values are not separated: each writer ends its object with {@link #endLine}. */
    static JsonGenerator generator(PrintWriter out) throws IOException {
        JsonGenerator json = OUT.createGenerator(out);
        json.setRootValueSeparator(null);
        return json;
    }

    /**
     * The input lines, numbered from 1. Lines of nothing but JSON white space (a trailing empty line, say) are
     * counted and skipped, as JSON Lines readers do, and a byte-order mark at the start is dropped. A line ends at
     * {@code \n}, {@code \r} or {@code \r\n}, as {@link BufferedReader#readLine} has it, and is UTF-8: one that is not
     * is answered with its error, never decoded with replacement characters in the place of its bytes.
     */
    public static final class Input {
        private final InputStream in;
        private long bytesRead;
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        /** The last line ended at a \r: a \n right after it ends nothing (it is not awaited, which would block). */
        private boolean skipLf;
        private int number;
        private final String first, second;

        /** Lines of {@code {"text": ..., "text_pair": ...}}. */
        public Input(InputStream in) {
            this(in, "text", "text_pair");
        }

        /** Lines whose text is field {@code first} and pair field {@code second} (see {@link #fields}). */
        Input(InputStream in, String first, String second) {
            this.in = new java.io.BufferedInputStream(in);
            this.first = first;
            this.second = second;
        }

        /** The next line that is not blank, or null at the end of the input. */
        public Line next() throws IOException {
            for (byte[] bytes; (bytes = readLine()) != null; ) {
                number++;
                String s;
                try {
                    s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
                } catch (java.nio.charset.CharacterCodingException e) {
                    return Line.failed(number, "not valid UTF-8 at byte " + firstMalformed(bytes) + " of the line");
                }
                if (number == 1 && s.startsWith("\uFEFF")) s = s.substring(1);
                if (!isBlank(s)) return parse(number, s, first, second);
            }
            return null;
        }

        /** The bytes of the next line without its end, or null at the end of the input. */
        private byte[] readLine() throws IOException {
            line.reset();
            for (int c; ; ) {
                c = in.read();
                if (c != -1) bytesRead++;
                if (skipLf) {
                    skipLf = false;
                    if (c == '\n') continue;
                }
                if (c == -1) return line.size() == 0 ? null : line.toByteArray();
                if (c == '\n') return line.toByteArray();
                if (c == '\r') {
                    skipLf = true;
                    return line.toByteArray();
                }
                line.write(c);
            }
        }

        /** Bytes of the input read so far. */
        long bytesRead() {
            return bytesRead;
        }

        /** Whether more input is waiting now: interactive input is answered as it comes. */
        boolean ready() throws IOException {
            return in.available() > 0;
        }

        /** The next lines, at most {@code max}; fewer when no more input is waiting; empty at the end. */
        List<Line> next(int max) throws IOException {
            List<Line> lines = new ArrayList<>();
            for (Line line; lines.size() < max && (line = next()) != null; ) {
                lines.add(line);
                if (!ready()) break;
            }
            return lines;
        }
    }

    /** The offset of the first byte that does not begin a well-formed UTF-8 sequence. */
    private static int firstMalformed(byte[] bytes) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        StandardCharsets.UTF_8.newDecoder().decode(in, java.nio.CharBuffer.allocate(bytes.length), true);
        return in.position();
    }

    private static boolean isBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\r') return false;
        }
        return true;
    }

    /** One line's JSON object: {@code "text"} a string, {@code "text_pair"} a string, null or absent. */
    static Line parse(int number, String s) {
        return parse(number, s, "text", "text_pair");
    }

    static Line parse(int number, String s, String first, String second) {
        JsonNode node;
        try (JsonParser parser = mapper().createParser(s)) {
            node = mapper().readTree(parser);
            if (node != null && parser.nextToken() != null) {
                return Line.failed(number, "unexpected content after the JSON value, at column "
                        + parser.currentTokenLocation().getColumnNr() + " (one JSON object per line)");
            }
        } catch (JacksonException e) {
            return Line.failed(number, "not valid JSON: " + describe(e));
        } catch (IOException e) {
            return Line.failed(number, "not valid JSON: " + e.getMessage());
        }
        return fields(number, node, first, second);
    }

    /**
     * The line's {@code first} field, a string, and its {@code second}: optional for "text_pair", required for
     * {@code qa}'s "context".
     */
    static Line fields(int number, JsonNode node, String first, String second) {
        if (node == null || !node.isObject()) return Line.failed(number, "expected a JSON object with a string \"" + first + "\"");
        JsonNode a = node.get(first), b = node.get(second);
        boolean secondRequired = !second.equals("text_pair");
        if (a == null || !a.isTextual()) return Line.failed(number, "\"" + first + "\" must be a string");
        if (secondRequired ? b == null || !b.isTextual() : b != null && !b.isNull() && !b.isTextual()) {
            return Line.failed(number, "\"" + second + "\" must be a string" + (secondRequired ? "" : " or null"));
        }
        return new Line(number, a.textValue(), b == null || b.isNull() ? null : b.textValue(), null, node.get("id"));
    }

    /**
     * Jackson's message without the text it puts in every location it quotes ("[Source: REDACTED ...; ").
     */
    static String describe(JacksonException e) {
        String message = e.getOriginalMessage().replace(REDACTED_SOURCE, "[");
        JsonLocation at = e.getLocation();
        return at == null || at.getColumnNr() < 0 ? message : message + " (column " + at.getColumnNr() + ")";
    }

    private static final String REDACTED_SOURCE = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ";

    /** Writes {@code {"error": "line N: message"}} on stdout and {@code bertj: line N: message} on stderr. */
    static void writeError(JsonGenerator json, PrintWriter err, int line, String message) throws IOException {
        String text = "line " + line + ": " + message;
        json.writeStartObject();
        json.writeStringField("error", text);
        json.writeEndObject();
        endLine(json);
        json.flush();
        err.println("bertj: " + text);
    }

    static void endLine(JsonGenerator json) throws IOException {
        json.writeRaw('\n');
    }

    static void writeFloats(JsonGenerator json, float[] values) throws IOException {
        json.writeStartArray();
        for (float v : values) json.writeNumber(v);
        json.writeEndArray();
    }

    /** [rows][width] as a list of lists. */
    static void writeMatrix(JsonGenerator json, float[][] rows) throws IOException {
        json.writeStartArray();
        for (float[] row : rows) writeFloats(json, row);
        json.writeEndArray();
    }

    /** The code point index of UTF-16 index {@code utf16} in {@code text}: Python's string index. */
    static int codePointIndex(String text, int utf16) {
        return text.codePointCount(0, utf16);
    }
}
