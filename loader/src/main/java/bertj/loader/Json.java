package bertj.loader;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Strict JSON parsing with errors that name the source and the field. */
final class Json {
    /** Duplicate keys are rejected: a second "hidden_size" or tensor entry is a corrupt file, not a choice. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}

    static JsonNode parse(String text, String source) {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(source + ": malformed JSON: " + describe(e), e);
        }
    }

    /**
     * Parses UTF-8 JSON bytes. They are decoded strictly first: given bytes, Jackson would guess UTF-16 or
     * UTF-32 from zero bytes and fail on garbage with an I/O error rather than a parse error.
     */
    static JsonNode parse(byte[] utf8, String source) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(source + ": not valid UTF-8 (" + e.getMessage() + ")", e);
        }
        return parse(text, source);
    }

    /** Reads and parses a JSON file that must hold an object. */
    static JsonNode readObject(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": file not found", e);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e, e);
        }
        JsonNode node = parse(text, file.toString());
        if (!node.isObject()) {
            throw new ModelFormatException(file + ": expected a JSON object, found " + kind(node));
        }
        return node;
    }

    /** "string \"768\"", "array", "null" ... for error messages. */
    static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) return "nothing";
        JsonNodeType type = node.getNodeType();
        return switch (type) {
            case STRING -> "string " + abbreviate(node.toString());
            case NUMBER, BOOLEAN -> type.name().toLowerCase() + " " + node;
            default -> type.name().toLowerCase();
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    private static String describe(JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        String where = loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        return e.getOriginalMessage() + where;
    }
}
