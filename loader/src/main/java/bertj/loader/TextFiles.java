package bertj.loader;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Text as bertj reads and writes it: UTF-8, the encoding every file of a model directory is in, decided and never
 * guessed, and lossless both ways.
 *
 * <p>Reading: the bytes are decoded strictly, so a byte that is not UTF-8 is a {@link ModelFormatException} naming
 * the file, the byte and the line. JSON is parsed from the decoded text: given bytes, Jackson guesses UTF-16 or UTF-32
 * from zero bytes, and a damaged file then fails with a character conversion error instead of a parse error.
 *
 * <p>Writing: JSON is written in ASCII, every other character as a {@code \\uXXXX} escape, as Python's
 * {@code json.dumps} writes it by default (and transformers writes config.json): any Java string, a lone surrogate
 * included, reads back exactly as it was. Plain text and protobuf strings are UTF-8, which cannot hold a lone surrogate
 * ({@code String.getBytes} would silently put a {@code ?} in its place): such a string is refused with an
 * {@link IllegalArgumentException} naming the file or field and the position, before anything is written.
 */
public final class TextFiles {
    private TextFiles() {}

    /** Created on first use: an ObjectMapper loads several hundred databind classes, which reading a model does not need. */
    private static final class Ascii {
        static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build());
    }

    /** The file's text, decoded strictly as UTF-8. */
    public static String readUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": file not found", e);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e, e);
        }
        return decodeUtf8(bytes, file.toString());
    }

    /**
     * UTF-8 bytes as text; a byte that is not UTF-8 is a {@link ModelFormatException} naming {@code source}, the byte and
     * the line. bertj.tokenizer's TokenizerFiles decodes the same way (it depends on none of ours).
     */
    public static String decodeUtf8(byte[] bytes, String source) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never has more chars than bytes
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int at = in.position(), line = 1;
            for (int i = 0; i < at; i++) if (bytes[i] == '\n') line++;
            throw new ModelFormatException(source + ": not valid UTF-8 at byte " + at + " (line " + line + ")");
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** The UTF-8 bytes of {@code text}; a lone surrogate is refused, naming {@code what} and its index. */
    public static byte[] utf8(String text, String what) {
        int lone = loneSurrogate(text);
        if (lone >= 0) {
            throw new IllegalArgumentException(String.format("%s holds a lone surrogate (\\u%04X at index %d), which UTF-8 cannot hold",
                    what, (int) text.charAt(lone), lone));
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code text} as UTF-8 (see {@link #utf8}); nothing is written when it is refused. */
    public static void writeUtf8(Path file, String text) throws IOException {
        Files.write(file, utf8(text, file.toString()));
    }

    /** A JSON tree as pretty-printed ASCII text with a final newline. */
    public static String json(JsonNode tree) {
        try {
            return Ascii.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tree) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree always serializes
        }
    }

    /** A JSON tree as compact ASCII text. */
    public static String compactJson(JsonNode tree) {
        try {
            return Ascii.JSON.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@link #json(JsonNode)} to a file. */
    public static void writeJson(Path file, JsonNode tree) throws IOException {
        Files.writeString(file, json(tree), StandardCharsets.US_ASCII);
    }

    /** The index of the first lone surrogate in {@code s}, or -1 when it is Unicode text. */
    public static int loneSurrogate(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return i;
        }
        return -1;
    }
}
