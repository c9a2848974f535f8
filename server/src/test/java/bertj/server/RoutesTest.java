package bertj.server;

import static bertj.server.Http.assertSameBits;
import static bertj.server.Http.assertShape;
import static bertj.server.Http.floats;
import static bertj.server.Http.get;
import static bertj.server.Http.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.Bert;
import bertj.engine.PackedInput;
import bertj.engine.Pooling;
import bertj.engine.Results.Classification;
import bertj.tokenizer.EncodeOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Every route, its answers and its errors, against text-embeddings-inference's shapes ({@link TeiShapes}) and against
 * what the Java API computes in this JVM for the same texts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class RoutesTest {
    private static final List<String> TEXTS = List.of("A man is playing a guitar.", "Someone is making music.", "",
            "The new movie is awesome, and the cat sits outside on the warm stones of the old garden wall.", "Héllo wörld 😀");
    /** Longer than the tiny models' 64 tokens. */
    private static final String LONG = "the quick brown fox jumps over the lazy dog ".repeat(20);

    private Bert embedder, classifier, reranker;
    private Server embedding, classifying, reranking;

    @BeforeAll
    void start() throws IOException {
        embedder = Bert.load(TestModels.embedder());
        classifier = Bert.load(TestModels.classifier());
        reranker = Bert.load(TestModels.reranker());
        Server.Options options = Server.Options.defaults().withPort(0);
        embedding = Server.start(embedder, options);
        classifying = Server.start(classifier, options);
        reranking = Server.start(reranker, options.withModelId("test/reranker"));
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {embedding, classifying, reranking, embedder, classifier, reranker}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    private Pooling pooling() {
        return Pooling.valueOf(embedder.defaultPooling().mode().name());
    }

    /** What the Java API gives for the text alone. */
    private float[] alone(String text, boolean normalize) {
        return embedder.embed(List.of(text), pooling(), normalize)[0];
    }

    private static ObjectNode body() {
        return Http.JSON.createObjectNode();
    }

    private static ArrayNode array(List<String> texts) {
        ArrayNode a = Http.JSON.createArrayNode();
        texts.forEach(a::add);
        return a;
    }

    // ---------------------------------------------------------------- embeddings

    @Test
    void embedGivesTheJavaApisBitsForEachTextAlone() {
        for (String text : TEXTS) {
            Http.Reply r = post(embedding, "/embed", body().put("inputs", text));
            assertEquals(200, r.status(), r.text());
            assertShape(TeiShapes.EMBED, r.json());
            assertEquals(1, r.json().size());
            assertSameBits(alone(text, true), floats(r.json().get(0)), "/embed " + text);
        }
        Http.Reply batch = post(embedding, "/embed", body().set("inputs", array(TEXTS)));
        assertEquals(200, batch.status(), batch.text());
        assertShape(TeiShapes.EMBED, batch.json());
        assertEquals(TEXTS.size(), batch.json().size());
        for (int i = 0; i < TEXTS.size(); i++) assertSameBits(alone(TEXTS.get(i), true), floats(batch.json().get(i)), "batch " + i);
        Http.Reply raw = post(embedding, "/embed", body().put("normalize", false).set("inputs", array(TEXTS)));
        for (int i = 0; i < TEXTS.size(); i++) assertSameBits(alone(TEXTS.get(i), false), floats(raw.json().get(i)), "raw " + i);
    }

    @Test
    void embedSetsTeisTimingHeaders() {
        String text = TEXTS.getFirst();
        Http.Reply r = post(embedding, "/embed", body().put("inputs", text));
        int tokens = embedder.tokenizer().encode(text, null, EncodeOptions.DEFAULT).length();
        assertEquals(String.valueOf(tokens), r.header("x-compute-tokens"));
        assertEquals(String.valueOf(text.codePointCount(0, text.length())), r.header("x-compute-characters"));
        for (String h : List.of("x-compute-time", "x-total-time", "x-tokenization-time", "x-queue-time", "x-inference-time")) {
            assertNotNull(r.header(h), h);
            assertTrue(Long.parseLong(r.header(h)) >= 0, h);
        }
        assertEquals("cpu", r.header("x-compute-type"));
    }

    @Test
    void dimensionsCutTheVectorThenNormalise() {
        String text = TEXTS.get(3);
        Http.Reply r = post(embedding, "/embed", body().put("inputs", text).put("dimensions", 8));
        assertEquals(200, r.status(), r.text());
        float[] expected = Pooling.normalize(Arrays.copyOf(alone(text, false), 8));
        assertSameBits(expected, floats(r.json().get(0)), "dimensions 8");

        assertError(post(embedding, "/embed", body().put("inputs", text).put("dimensions", 0)), 422, "Validation",
                "Input validation error: `dimensions` should be positive");
        assertError(post(embedding, "/embed", body().put("inputs", text).put("dimensions", 33)), 422, "Validation",
                "Input validation error: `dimensions` should be smaller than the maximum embedding dimension.");
    }

    @Test
    void tokenIdsAreEmbeddedAsGiven() {
        String text = TEXTS.getFirst();
        int[] ids = embedder.tokenizer().encode(text, null, EncodeOptions.DEFAULT).ids();
        ArrayNode idArray = Http.JSON.createArrayNode();
        for (int id : ids) idArray.add(id);
        Http.Reply single = post(embedding, "/embed", body().set("inputs", idArray));
        assertEquals(200, single.status(), single.text());
        assertEquals(1, single.json().size());
        assertSameBits(alone(text, true), floats(single.json().get(0)), "ids");
        ArrayNode batch = Http.JSON.createArrayNode().add(idArray).add(text);
        Http.Reply both = post(embedding, "/embed", body().set("inputs", batch));
        assertEquals(2, both.json().size());
        assertSameBits(floats(both.json().get(0)), floats(both.json().get(1)), "ids and text");

        assertError(post(embedding, "/embed", "{\"inputs\": [1, 2, 99999999]}"), 422, "Validation",
                "Input validation error: token id 99999999 is not in the vocabulary (30522 tokens)");
        assertError(post(embedding, "/embed", "{\"inputs\": [1, -2]}"), 422, "Validation", "`inputs[1]` must be a token id (an integer >= 0), got -2");
    }

    @Test
    void embedAllGivesEveryTokensHiddenState() {
        String text = TEXTS.get(1);
        Http.Reply r = post(embedding, "/embed_all", body().put("inputs", text));
        assertEquals(200, r.status(), r.text());
        assertShape(TeiShapes.EMBED_ALL, r.json());
        float[][] expected = embedder.encode(List.of(text), null, false).output().lastHiddenState()[0];
        JsonNode tokens = r.json().get(0);
        assertEquals(expected.length, tokens.size());
        for (int t = 0; t < expected.length; t++) assertSameBits(expected[t], floats(tokens.get(t)), "token " + t);
    }

    @Test
    void openAiEmbeddingsInFloatAndBase64AreTheJavaApisBits() {
        ObjectNode request = body().put("model", "anything").set("input", array(TEXTS));
        Http.Reply f = post(embedding, "/v1/embeddings", request);
        assertEquals(200, f.status(), f.text());
        assertShape(TeiShapes.OPENAI_FLOAT, f.json());
        Http.Reply b = post(embedding, "/v1/embeddings", request.deepCopy().put("encoding_format", "base64"));
        assertEquals(200, b.status(), b.text());
        assertShape(TeiShapes.OPENAI_BASE64, b.json());
        int tokens = 0;
        for (int i = 0; i < TEXTS.size(); i++) {
            float[] expected = alone(TEXTS.get(i), true);
            assertEquals(i, f.json().get("data").get(i).get("index").intValue());
            assertSameBits(expected, floats(f.json().get("data").get(i).get("embedding")), "float " + i);
            assertSameBits(expected, Http.base64Floats(b.json().get("data").get(i).get("embedding").textValue()), "base64 " + i);
            tokens += embedder.tokenizer().encode(TEXTS.get(i), null, EncodeOptions.DEFAULT).length();
        }
        assertEquals(tokens, f.json().get("usage").get("prompt_tokens").intValue());
        assertEquals(tokens, f.json().get("usage").get("total_tokens").intValue());
        assertEquals("tiny-bert", f.json().get("model").textValue()); // the directory's name: no model id was given

        Http.Reply single = post(embedding, "/v1/embeddings", body().put("input", TEXTS.getFirst()).put("dimensions", 4));
        assertSameBits(Pooling.normalize(Arrays.copyOf(alone(TEXTS.getFirst(), false), 4)),
                floats(single.json().get("data").get(0).get("embedding")), "dimensions 4");
    }

    @Test
    void openAiErrorsHaveOpenAisShape() {
        Http.Reply r = post(embedding, "/v1/embeddings", body().put("input", "x").put("encoding_format", "int8"));
        assertEquals(422, r.status());
        assertShape(TeiShapes.openAiError("Validation", 422), r.json());
        assertEquals("`encoding_format`: unknown variant `int8`, expected `float` or `base64`", r.json().get("error").get("message").textValue());
        Http.Reply empty = post(embedding, "/v1/embeddings", "{\"input\": []}");
        assertEquals(400, empty.status());
        assertShape(TeiShapes.openAiError("Empty", 400), empty.json());
        Http.Reply tooLong = post(embedding, "/v1/embeddings", body().put("input", LONG));
        assertEquals(422, tooLong.status());
        assertShape(TeiShapes.openAiError("Validation", 422), tooLong.json());
        Http.Reply onClassifier = post(classifying, "/v1/embeddings", body().put("input", "x"));
        assertEquals(424, onClassifier.status());
        assertShape(TeiShapes.openAiError("Backend", 424), onClassifier.json());
    }

    @Test
    void similarityIsTheCosineOfUnnormalisedEmbeddings() {
        ObjectNode request = body();
        request.putObject("inputs").put("source_sentence", TEXTS.get(0)).set("sentences", array(TEXTS.subList(1, 4)));
        Http.Reply r = post(embedding, "/similarity", request);
        assertEquals(200, r.status(), r.text());
        assertShape(TeiShapes.SIMILARITY, r.json());
        float[] source = alone(TEXTS.get(0), false);
        for (int i = 1; i < 4; i++) {
            float expected = (float) Pooling.cosine(source, alone(TEXTS.get(i), false));
            assertEquals(expected, floats(r.json())[i - 1], "sentence " + i);
        }
        ObjectNode none = body();
        none.putObject("inputs").put("source_sentence", "a").putArray("sentences");
        assertError(post(embedding, "/similarity", none), 400, "Empty", "`inputs.sentences` cannot be empty");
        ObjectNode tooMany = body();
        tooMany.putObject("inputs").put("source_sentence", "a").set("sentences", array(java.util.Collections.nCopies(32, "b")));
        assertError(post(embedding, "/similarity", tooMany), 422, "Validation", "batch size 33 > maximum allowed batch size 32");
    }

    @Test
    void truncationCutsOnTheRightAsTheJavaApiOrOnTheLeft() {
        int tokens = embedder.tokenizer().encode(LONG, null, EncodeOptions.DEFAULT).length();
        assertTrue(tokens > 64);
        assertError(post(embedding, "/embed", body().put("inputs", LONG)), 422, "Validation",
                "Input validation error: `inputs` must have less than 64 tokens. Given: " + tokens);
        Http.Reply right = post(embedding, "/embed", body().put("inputs", LONG).put("truncate", true));
        assertEquals(200, right.status(), right.text());
        assertSameBits(alone(LONG, true), floats(right.json().get(0)), "right"); // Bert.embed truncates on the right

        Http.Reply left = post(embedding, "/embed", body().put("inputs", "one two three " + LONG).put("truncate", true)
                .put("truncation_direction", "Left"));
        assertEquals(200, left.status(), left.text());
        // [CLS], the text's last 62 tokens, [SEP]
        int[] words = embedder.tokenizer().encode("one two three " + LONG, null, EncodeOptions.DEFAULT.withAddSpecialTokens(false)).ids();
        int[] ids = new int[64];
        ids[0] = embedder.tokenizer().clsTokenId();
        System.arraycopy(words, words.length - 62, ids, 1, 62);
        ids[63] = embedder.tokenizer().sepTokenId();
        float[][] expected = new float[1][];
        embedder.model().forward(PackedInput.of(List.of(ids), null), (s, rows, pooled) -> expected[0] = pooling().pool(rows, 64, 32));
        assertSameBits(Pooling.normalize(expected[0]), floats(left.json().get(0)), "left");
        assertNotEquals(left.json().get(0), right.json().get(0));

        assertError(post(embedding, "/embed", body().put("inputs", "a").put("truncation_direction", "middle")), 422, "Validation",
                "`truncation_direction`: unknown variant `middle`, expected `Left` or `Right`");
    }

    // ---------------------------------------------------------------- tokenizer

    @Test
    void tokenizeGivesTokensWithUtf8ByteOffsets() {
        Http.Reply r = post(embedding, "/tokenize", body().put("inputs", "Héllo wörld 😀"));
        assertEquals(200, r.status(), r.text());
        assertShape(TeiShapes.TOKENIZE, r.json());
        assertShape("""
                [[{"id": 101, "text": "[CLS]", "special": true, "start": null, "stop": null},
                  {"id": 7592, "text": "Héllo", "special": false, "start": 0, "stop": 6},
                  {"id": 2088, "text": "wörld", "special": false, "start": 7, "stop": 13},
                  {"id": 100, "text": "😀", "special": false, "start": 14, "stop": 18},
                  {"id": 102, "text": "[SEP]", "special": true, "start": null, "stop": null}]]""", r.json());
        Http.Reply plain = post(embedding, "/tokenize", body().put("add_special_tokens", false).set("inputs", array(List.of("a b", "c"))));
        assertShape("""
                [[{"id": 1037, "text": "a", "special": false, "start": 0, "stop": 1},
                  {"id": 1038, "text": "b", "special": false, "start": 2, "stop": 3}],
                 [{"id": 1039, "text": "c", "special": false, "start": 0, "stop": 1}]]""", plain.json());
        assertError(post(embedding, "/tokenize", "{\"inputs\": []}"), 400, "Empty", "`inputs` cannot be empty");
        assertError(post(embedding, "/tokenize", "{\"inputs\": 3}"), 422, "Validation", "`inputs` must be a string or an array of strings");
    }

    @Test
    void decodeTurnsIdsBackIntoText() {
        Http.Reply r = post(embedding, "/decode", "{\"ids\": [101, 7592, 2088, 102]}");
        assertEquals(200, r.status(), r.text());
        assertShape(TeiShapes.DECODE, r.json());
        assertEquals("hello world", r.json().get(0).textValue());
        Http.Reply batch = post(embedding, "/decode", "{\"ids\": [[101, 7592, 102], [2088]], \"skip_special_tokens\": false}");
        assertEquals("[CLS] hello [SEP]", batch.json().get(0).textValue());
        assertEquals("world", batch.json().get(1).textValue());
        assertError(post(embedding, "/decode", "{\"ids\": [1, \"a\"]}"), 422, "Validation", "`ids[1]` must be a token id (an integer >= 0), got \"a\"");
        assertError(post(embedding, "/decode", "{}"), 422, "Validation", "missing field `ids`");
    }

    // ---------------------------------------------------------------- classification

    @Test
    void predictGivesLabelsBestFirstWithTheJavaApisLogits() {
        for (String[] input : new String[][] {{"This movie is great."}, {"A man is playing a guitar.", "Someone is making music."}}) {
            JsonNode inputs = input.length == 1 ? Http.JSON.getNodeFactory().textNode(input[0]) : array(List.of(input));
            Http.Reply r = post(classifying, "/predict", body().set("inputs", inputs));
            assertEquals(200, r.status(), r.text());
            assertShape(TeiShapes.PREDICT_SINGLE, r.json());
            Classification c = classifier.classify(input[0], input.length == 2 ? input[1] : null);
            assertEquals(3, r.json().size());
            assertEquals(c.label(), r.json().get(0).get("label").textValue());
            for (JsonNode p : r.json()) {
                assertEquals(c.probabilities().get(p.get("label").textValue()), p.get("score").doubleValue(), 1e-6);
            }
            for (int i = 1; i < 3; i++) assertTrue(r.json().get(i - 1).get("score").doubleValue() >= r.json().get(i).get("score").doubleValue());

            Http.Reply raw = post(classifying, "/predict", body().put("raw_scores", true).set("inputs", inputs));
            List<String> labels = List.of("negative", "neutral", "positive");
            for (JsonNode p : raw.json()) {
                float logit = c.logits()[labels.indexOf(p.get("label").textValue())];
                assertEquals(Float.floatToRawIntBits(logit), Float.floatToRawIntBits(Float.parseFloat(p.get("score").asText())));
            }
        }
        Http.Reply batch = post(classifying, "/predict", "{\"inputs\": [[\"a\"], [\"b\", \"c\"], [\"d\"]]}");
        assertEquals(200, batch.status(), batch.text());
        assertShape(TeiShapes.PREDICT_BATCH, batch.json());
        assertEquals(3, batch.json().size());
        assertEquals(classifier.classify("b", "c").label(), batch.json().get(1).get(0).get("label").textValue());
    }

    @Test
    void predictRefusesWhatTeiRefuses() {
        String expecting = "expected a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]";
        assertError(post(classifying, "/predict", "{\"inputs\": [\"a\", \"b\", \"c\"]}"), 422, "Validation",
                "`inputs`: invalid length 3, " + expecting);
        assertError(post(classifying, "/predict", "{\"inputs\": []}"), 422, "Validation", "`inputs`: invalid length 0, " + expecting);
        assertError(post(classifying, "/predict", "{\"inputs\": [[\"a\"], \"b\"]}"), 422, "Validation", "`inputs[1]`: invalid type, " + expecting);
        StringBuilder many = new StringBuilder("{\"inputs\": [");
        for (int i = 0; i < 33; i++) many.append(i == 0 ? "" : ",").append("[\"x\"]");
        assertError(post(classifying, "/predict", many + "]}"), 422, "Validation", "batch size 33 > maximum allowed batch size 32");
        assertError(post(embedding, "/predict", "{\"inputs\": \"a\"}"), 424, "Backend", "Backend error: Model is not a classifier model");
        assertError(post(classifying, "/embed", "{\"inputs\": \"a\"}"), 424, "Backend", "Backend error: Model is not an embedding model");
        assertError(post(classifying, "/embed_all", "{\"inputs\": \"a\"}"), 424, "Backend", "Backend error: Model is not an embedding model");
        assertError(post(classifying, "/rerank", "{\"query\": \"a\", \"texts\": [\"b\"]}"), 424, "Backend", "Backend error: model is not a re-ranker model");
    }

    @Test
    void rerankSortsTextsByTheCrossEncodersScore() {
        List<String> texts = List.of("Deep learning is a kind of machine learning.", "The cat sits outside.", "Neural networks learn.", "");
        String query = "What is deep learning?";
        Http.Reply r = post(reranking, "/rerank", body().put("query", query).set("texts", array(texts)));
        assertEquals(200, r.status(), r.text());
        assertShape(TeiShapes.RERANK, r.json());
        Http.Reply raw = post(reranking, "/rerank", body().put("query", query).put("raw_scores", true).put("return_text", true)
                .set("texts", array(texts)));
        assertShape(TeiShapes.RERANK_WITH_TEXT, raw.json());
        assertEquals(texts.size(), r.json().size());
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            JsonNode rank = r.json().get(i), rawRank = raw.json().get(i);
            int index = rank.get("index").intValue();
            seen.add(index);
            float logit = reranker.classify(query, texts.get(index)).logits()[0];
            assertEquals((float) (1 / (1 + Math.exp(-logit))), Float.parseFloat(rank.get("score").asText()), 1e-7f);
            assertEquals(texts.get(rawRank.get("index").intValue()), rawRank.get("text").textValue());
            float rawLogit = reranker.classify(query, texts.get(rawRank.get("index").intValue())).logits()[0];
            assertEquals(Float.floatToRawIntBits(rawLogit), Float.floatToRawIntBits(Float.parseFloat(rawRank.get("score").asText())));
            if (i > 0) assertTrue(r.json().get(i - 1).get("score").doubleValue() >= rank.get("score").doubleValue(), "sorted");
        }
        assertEquals(List.of(0, 1, 2, 3), seen.stream().sorted().toList());

        assertError(post(reranking, "/rerank", "{\"query\": \"a\", \"texts\": []}"), 400, "Empty", "`texts` cannot be empty");
        assertError(post(reranking, "/rerank", "{\"texts\": [\"a\"]}"), 422, "Validation", "missing field `query`");
        assertError(post(embedding, "/rerank", "{\"query\": \"a\", \"texts\": [\"b\"]}"), 424, "Backend", "Backend error: model is not a re-ranker model");
        // TEI's default route serves the model's own task
        Http.Reply root = post(reranking, "/", body().put("query", query).set("texts", array(texts)));
        assertEquals(r.json(), root.json());
    }

    // ---------------------------------------------------------------- info, health, metrics

    @Test
    void infoDescribesTheModelAsTeiDoes() {
        Http.Reply e = get(embedding, "/info");
        assertEquals(200, e.status(), e.text());
        assertShape(TeiShapes.info(TeiShapes.EMBEDDING_MODEL), e.json());
        assertEquals("cls", e.json().get("model_type").get("embedding").get("pooling").textValue());
        assertEquals(64, e.json().get("max_input_length").intValue());
        assertEquals("float32", e.json().get("model_dtype").textValue());
        assertShape(TeiShapes.info(TeiShapes.CLASSIFIER_MODEL), get(classifying, "/info").json());
        Http.Reply r = get(reranking, "/info");
        assertShape(TeiShapes.info(TeiShapes.RERANKER_MODEL), r.json());
        assertEquals("test/reranker", r.json().get("model_id").textValue());
    }

    @Test
    void healthAndMetricsAnswer() {
        Http.Reply health = get(embedding, "/health");
        assertEquals(200, health.status());
        assertEquals("", health.text());
        post(embedding, "/embed", body().put("inputs", "counted"));
        Http.Reply metrics = get(embedding, "/metrics");
        assertEquals(200, metrics.status());
        assertTrue(metrics.header("Content-Type").startsWith("text/plain"), metrics.header("Content-Type"));
        String text = metrics.text();
        for (String line : List.of("# TYPE te_request_count counter", "# TYPE te_batch_next_size histogram", "# TYPE te_queue_size gauge",
                "te_queue_size 0", "te_request_duration_bucket{route=\"/embed\",le=\"+Inf\"} ")) {
            assertTrue(text.contains(line), line + " in\n" + text);
        }
        long embeds = text.lines().filter(l -> l.startsWith("te_request_count{route=\"/embed\"} "))
                .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).sum();
        assertTrue(embeds >= 1, text);
    }

    // ---------------------------------------------------------------- malformed requests

    @Test
    void malformedRequestsGetAClear422() {
        assertError(post(embedding, "/embed", "{\"inputs\": \"a\""), 422, "Validation", null);
        assertTrue(post(embedding, "/embed", "{\"inputs\": ").json().get("error").textValue().startsWith("the request body is not valid JSON: "));
        assertError(post(embedding, "/embed", "{\"inputs\": \"a\"} x"), 422, "Validation", null);
        assertError(post(embedding, "/embed", ""), 422, "Validation", "the request body is empty: expected a JSON object");
        assertError(post(embedding, "/embed", "[1]"), 422, "Validation", "the request body must be a JSON object, got array");
        assertError(post(embedding, "/embed", "{}"), 422, "Validation", "missing field `inputs`");
        assertError(post(embedding, "/embed", "{\"inputs\": {}}"), 422, "Validation",
                "`inputs` must be a string, an array of token ids, or an array of those");
        assertError(post(embedding, "/embed", "{\"inputs\": [\"a\", true]}"), 422, "Validation", "`inputs[1]` must be a string or a non-empty array of token ids");
        assertError(post(embedding, "/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}"), 422, "Validation", "`normalize` must be a boolean, got \"yes\"");
        assertError(post(embedding, "/embed", "{\"inputs\": \"a\", \"truncate\": 1}"), 422, "Validation", "`truncate` must be a boolean or null, got 1");
        assertError(post(embedding, "/embed", "{\"inputs\": \"a\", \"prompt_name\": \"query\"}"), 422, "Validation",
                "Input validation error: `prompt_name` is not supported: this server does not apply sentence-transformers prompts");
        assertError(post(embedding, "/embed", "{\"inputs\": []}"), 400, "Empty", "`inputs` cannot be empty");
        assertError(post(embedding, "/embed", body().set("inputs", array(java.util.Collections.nCopies(33, "a")))), 422, "Validation",
                "batch size 33 > maximum allowed batch size 32");
        assertError(post(embedding, "/embed", "[".repeat(5000)), 422, "Validation", null); // nesting too deep for the parser
        // unknown fields are ignored, as serde does
        assertEquals(200, post(embedding, "/embed", "{\"inputs\": \"a\", \"user\": \"me\"}").status());
    }

    @Test
    void unknownRoutesAndMethods() {
        Http.Reply none = get(embedding, "/nope");
        assertError(none, 404, "NotFound", null);
        Http.Reply wrongMethod = get(embedding, "/embed");
        assertError(wrongMethod, 405, "MethodNotAllowed", "GET /embed is not allowed: use POST");
        assertEquals("POST", wrongMethod.header("Allow"));
        assertError(post(embedding, "/health", "{}"), 405, "MethodNotAllowed", null);
    }

    /** TEI's error body with this type (and message, when given), at this status. */
    static void assertError(Http.Reply r, int status, String errorType, String message) {
        assertEquals(status, r.status(), r.text());
        assertShape(TeiShapes.error(errorType), r.json());
        if (message != null) assertEquals(message, r.json().get("error").textValue());
    }
}
