package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Json's streaming tree builder gives the trees databind's readTree gives, and strict errors. */
class JsonTest {
    @Test
    void treesAreThoseOfReadTree() throws Exception {
        String text = """
                {"int": 768, "negative": -3, "long": 12345678901, "big": 123456789012345678901234567890,
                 "double": 1e-12, "fraction": 0.5, "exponentInt": 2E3, "text": "caf\\u00e9 \\ud83d\\ude00",
                 "yes": true, "no": false, "nothing": null, "list": [1, [2, {"a": []}], {}],
                 "nested": {"deeper": {"deepest": "x"}}}""";
        JsonNode expected = new ObjectMapper().readTree(text);
        JsonNode actual = Json.parse(text, "test.json");
        assertEquals(expected, actual);
        assertEquals(expected.get("long").getNodeType(), actual.get("long").getNodeType());
        assertTrue(actual.get("int").isInt());
        assertTrue(actual.get("long").isLong());
        assertTrue(actual.get("big").isBigInteger());
        assertTrue(actual.get("double").isDouble());
        assertTrue(actual.get("exponentInt").isDouble());
    }

    @Test
    void emptyTextIsMissing() {
        assertTrue(Json.parse("", "empty.json").isMissingNode());
        assertTrue(Json.parse("  \n", "blank.json").isMissingNode());
    }

    @Test
    void strictErrorsNameTheSourceAndPlace() {
        ModelFormatException trailing = assertThrows(ModelFormatException.class, () -> Json.parse("{} {}", "t.json"));
        assertTrue(trailing.getMessage().startsWith("t.json: malformed JSON: content after the top-level value"),
                trailing.getMessage());
        assertTrue(trailing.getMessage().contains("(line 1, column 4)"), trailing.getMessage());
        ModelFormatException duplicate = assertThrows(ModelFormatException.class,
                () -> Json.parse("{\"a\": 1,\n \"a\": 2}", "d.json"));
        assertTrue(duplicate.getMessage().contains("Duplicate field 'a'"), duplicate.getMessage());
        assertTrue(duplicate.getMessage().contains("line 2"), duplicate.getMessage());
        ModelFormatException truncated = assertThrows(ModelFormatException.class, () -> Json.parse("[1, 2", "u.json"));
        assertTrue(truncated.getMessage().startsWith("u.json: malformed JSON: "), truncated.getMessage());
    }
}
