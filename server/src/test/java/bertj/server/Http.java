package bertj.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A client for the tests (loopback only, every call bounded in time) and checks of what the server answers. */
final class Http {
    /** Numbers read exactly: a float's shortest decimal, parsed straight to float, is that float. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    record Reply(int status, JsonNode json, String text, HttpResponse<String> response) {
        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    private Http() {
    }

    static Reply post(Server server, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).timeout(TIMEOUT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return send(b.build());
    }

    static Reply post(Server server, String path, JsonNode body, String... headers) {
        return post(server, path, body.toString(), headers);
    }

    static Reply get(Server server, String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).timeout(TIMEOUT).GET();
        for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return send(b.build());
    }

    static Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            String type = r.headers().firstValue("Content-Type").orElse("");
            if (type.startsWith("application/json") && !r.body().isEmpty()) json = JSON.readTree(r.body());
            return new Reply(r.statusCode(), json, r.body(), r);
        } catch (IOException e) {
            throw new AssertionError("request " + request.method() + " " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            assertTrue(array.get(i).isNumber(), "not a number: " + array.get(i));
            out[i] = Float.parseFloat(array.get(i).asText());
        }
        return out;
    }

    /** OpenAI's base64 embedding: little-endian float32 bytes. */
    static float[] base64Floats(String base64) {
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    /** The same bits, element by element. */
    static void assertSameBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " bit for bit");
            }
        }
    }

    /**
     * Checks a JSON value against a shape: {@code "$string"}, {@code "$number"}, {@code "$integer"}, {@code "$boolean"},
     * {@code "$integer|null"} and so on stand for any value of that type; an object needs exactly the template's keys;
     * a one-element array template is what every element of a non-empty array must be; anything else must be equal.
     */
    static void assertShape(JsonNode template, JsonNode actual, String path) {
        if (template.isTextual() && template.textValue().startsWith("$")) {
            for (String type : template.textValue().substring(1).split("\\|")) {
                if (is(type, actual)) return;
            }
            fail(path + ": expected " + template.textValue() + ", got " + actual);
        } else if (template.isObject()) {
            assertTrue(actual != null && actual.isObject(), path + ": expected an object, got " + actual);
            Set<String> expectedKeys = new TreeSet<>(), actualKeys = new TreeSet<>();
            template.fieldNames().forEachRemaining(expectedKeys::add);
            actual.fieldNames().forEachRemaining(actualKeys::add);
            assertEquals(expectedKeys, actualKeys, path + ": keys");
            for (Iterator<Map.Entry<String, JsonNode>> it = template.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertShape(e.getValue(), actual.get(e.getKey()), path + "." + e.getKey());
            }
        } else if (template.isArray() && template.size() == 1) {
            assertTrue(actual != null && actual.isArray() && !actual.isEmpty(), path + ": expected a non-empty array, got " + actual);
            for (int i = 0; i < actual.size(); i++) assertShape(template.get(0), actual.get(i), path + "[" + i + "]");
        } else {
            assertEquals(template, actual, path);
        }
    }

    static void assertShape(String template, JsonNode actual) {
        assertShape(json(template), actual, "$");
    }

    private static boolean is(String type, JsonNode v) {
        return switch (type) {
            case "string" -> v.isTextual();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> throw new IllegalArgumentException("unknown type in a shape: " + type);
        };
    }

    static URI uri(Server server, String path) {
        return server.uri().resolve(path);
    }
}
