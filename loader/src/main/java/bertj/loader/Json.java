package bertj.loader;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Strict JSON parsing with errors that name the source and the field.
 *
 * <p>Files are read with jackson-core's streaming parser into {@link JsonNode} trees, without an
 * {@link ObjectMapper}: creating one loads several hundred databind classes, 200-250 ms in a fresh JVM,
 * which was most of a model's first load. Writing (config.json, safetensors headers) is {@link TextFiles}'s. bertj.tokenizer's JsonTrees builds trees the same way (it depends on none of ours).
 */
final class Json {
    /** Duplicate keys are rejected: a second "hidden_size" or tensor entry is a corrupt file, not a choice. */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {}

    /** The tree of {@code text}, which must hold one JSON value; empty text gives a missing node. */
    static JsonNode parse(String text, String source) {
        if (text.startsWith("\uFEFF")) {
            throw new ModelFormatException(source + ": malformed JSON: starts with a byte order mark (U+FEFF), which a JSON file"
                    + " must not have; Hugging Face's readers refuse it too");
        }
        try (JsonParser parser = FACTORY.createParser(text)) {
            if (parser.nextToken() == null) {
                return MissingNode.getInstance();
            }
            JsonNode root = value(parser);
            if (parser.nextToken() != null) {
                throw new ModelFormatException(source + ": malformed JSON: content after the top-level value"
                        + where(parser.currentTokenLocation()));
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(source + ": malformed JSON: " + describe(e), e);
        } catch (IOException e) {
            throw new ModelFormatException(source + ": cannot read JSON: " + e, e);
        }
    }

    /**
     * The value at the parser's current token, as ObjectMapper.readTree builds it: ints as int, long or
     * BigInteger nodes by size, other numbers as doubles. The parser limits nesting (1000 levels), so the
     * recursion is bounded.
     */
    private static JsonNode value(JsonParser parser) throws IOException {
        return switch (parser.currentToken()) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    parser.nextToken();
                    object.set(name, value(parser));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(value(parser));
                }
                yield array;
            }
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new IllegalStateException("unexpected token " + parser.currentToken());
        };
    }

    /** Parses UTF-8 JSON bytes, decoded strictly first (see {@link TextFiles}). */
    static JsonNode parse(byte[] utf8, String source) {
        return parse(TextFiles.decodeUtf8(utf8, source), source);
    }

    /** Reads and parses a JSON file that must hold an object. */
    static JsonNode readObject(Path file) {
        JsonNode node = parse(TextFiles.readUtf8(file), file.toString());
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
        // Without the "[Source: REDACTED ...; " Jackson puts in every location it quotes.
        return e.getOriginalMessage().replace("[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ", "[")
                + where(e.getLocation());
    }

    private static String where(JsonLocation loc) {
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
}
