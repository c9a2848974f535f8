package bertj.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * JSON files as the {@link JsonNode} trees {@code ObjectMapper.readTree(File)} gives (same number types, a
 * repeated key keeps its last value, an empty file is a missing node, content after the first value is not
 * read), built from jackson-core's streaming parser: creating an ObjectMapper loads several hundred databind
 * classes, 200-250 ms in a fresh JVM. bertj.loader has the same reader (this module depends on none of ours).
 *
 * <p>The text is always UTF-8, as the formats say: the caller decodes the file strictly and hands over chars.
 * Given bytes, Jackson would guess UTF-16 or UTF-32 from zero bytes, and a damaged file would fail with a
 * character conversion error instead of a parse error.
 */
final class JsonTrees {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /**
     * Field names not interned: tokenizer.json's vocabulary has 30,000 of them, seen once each. Interning them
     * cost 30-100 ms of a fresh JVM's first tokenizer load and a third of a later read.
     */
    private static final JsonFactory FACTORY = JsonFactory.builder().disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build();

    private JsonTrees() {}

    /**
     * The tree of a JSON text. With {@code unicodeStrings}, a string or key holding a lone surrogate ({@code "\ud800"})
     * is refused, as tokenizers' reader (serde_json) refuses it: Python's json takes it, Rust's strings cannot hold it.
     */
    static JsonNode parse(char[] text, int length, boolean unicodeStrings) throws IOException {
        if (length > 0 && text[0] == '\uFEFF') {
            throw new JsonParseException(null, "starts with a byte order mark (U+FEFF), which a JSON file must not have;"
                    + " Hugging Face's readers refuse it too");
        }
        try (JsonParser parser = FACTORY.createParser(text, 0, length)) {
            return parser.nextToken() == null ? MissingNode.getInstance() : value(parser, unicodeStrings);
        }
    }

    /** Jackson's message and where, without the "[Source: REDACTED ...; " it puts in every location it quotes. */
    static String describe(JacksonException e) {
        String message = e.getOriginalMessage().replace(REDACTED_SOURCE, "[");
        JsonLocation at = e.getLocation();
        return at == null ? message : message + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    private static final String REDACTED_SOURCE = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ";

    /** The value at the parser's current token. The parser limits nesting (1000 levels), so the recursion is bounded. */
    private static JsonNode value(JsonParser parser, boolean unicodeStrings) throws IOException {
        return switch (parser.currentToken()) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = unicode(parser, parser.currentName(), unicodeStrings);
                    parser.nextToken();
                    object.set(name, value(parser, unicodeStrings));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(value(parser, unicodeStrings));
                }
                yield array;
            }
            case VALUE_STRING -> NODES.textNode(unicode(parser, parser.getText(), unicodeStrings));
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

    /** {@code s}, unless {@code check} is set and it holds a lone surrogate. */
    private static String unicode(JsonParser parser, String s, boolean check) throws JsonParseException {
        if (!check) return s;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new JsonParseException(parser, String.format("lone surrogate \\u%04X in a string, which is not Unicode text"
                        + " (tokenizers cannot read it either)", (int) c));
            }
        }
        return s;
    }
}
