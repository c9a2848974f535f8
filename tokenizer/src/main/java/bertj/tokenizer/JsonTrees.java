package bertj.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * JSON files as the {@link JsonNode} trees {@code ObjectMapper.readTree(File)} gives (same number types, a
 * repeated key keeps its last value, an empty file is a missing node, content after the first value is not
 * read), built from jackson-core's streaming parser: creating an ObjectMapper loads several hundred databind
 * classes, 200-250 ms in a fresh JVM. bertj.loader has the same reader (this module depends on none of ours).
 */
final class JsonTrees {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /**
     * Field names not interned: tokenizer.json's vocabulary has 30,000 of them, seen once each. Interning them
     * cost 30-100 ms of a fresh JVM's first tokenizer load and a third of a later read. (Canonicalisation
     * stays on: without it Jackson reads through a Reader, which lets malformed UTF-8 through.)
     */
    private static final JsonFactory FACTORY = JsonFactory.builder().disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build();

    private JsonTrees() {}

    static JsonNode read(Path file) throws IOException {
        try (JsonParser parser = FACTORY.createParser(file.toFile())) {
            return parser.nextToken() == null ? MissingNode.getInstance() : value(parser);
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
}
