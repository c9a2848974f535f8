package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.engine.BertInput;
import bertj.engine.BertModel;
import bertj.engine.BaseModelOutputWithPooling;
import bertj.loader.SafetensorsFile;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EncodeCommandTest {
    /** Numbers kept as written, so that a float's text can be checked to read back as exactly that float. */
    static final ObjectMapper EXACT = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
    /** The fixtures' tolerance against their float64 reference. */
    static final double REFERENCE_TOLERANCE = 1e-5;
    /**
     * The same engine on the same ids, in another call. Not bit for bit: calls made before the JIT has compiled the
     * kernels give other roundings than later ones (measured on tiny-bert with one thread: up to 2e-6 apart; the
     * Vector API's interpreted lane reductions sum in another order). So the fixtures' tolerance.
     */
    static final float RERUN_TOLERANCE = 1e-5f;

    static List<JsonNode> lines(String out) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : out.split("\n")) nodes.add(EXACT.readTree(line));
        return nodes;
    }

    /** The float a JSON number's decimal text denotes (correctly rounded, no detour through double). */
    static float f(JsonNode number) {
        assertTrue(number.isNumber(), number.toString());
        return Float.parseFloat(number.decimalValue().toString());
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = f(array.get(i));
        return out;
    }

    static float[][] matrix(JsonNode array) {
        float[][] out = new float[array.size()][];
        for (int i = 0; i < out.length; i++) out[i] = floats(array.get(i));
        return out;
    }

    static String line(String text, String pair) throws Exception {
        var node = EXACT.createObjectNode().put("text", text);
        if (pair != null) node.put("text_pair", pair);
        return EXACT.writeValueAsString(node);
    }

    @Test
    void outputsAreTheEnginesForwardPassOnTheSameIds() throws Exception {
        Path dir = model("tiny-bert");
        List<String[]> inputs = List.of(new String[] {"Hello, world!", null}, new String[] {"What is BERT?", "A 🎉 model, naïvely."},
                new String[] {"東京は日本の首都です。", null});
        StringBuilder stdin = new StringBuilder();
        for (String[] in : inputs) stdin.append(line(in[0], in[1])).append('\n');
        Run r = run(stdin.toString(), "encode", dir.toString(), "--all-layers");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        List<JsonNode> out = lines(r.out());
        assertEquals(inputs.size(), out.size());

        BertTokenizer tokenizer = BertTokenizer.fromDirectory(dir);
        try (BertModel model = BertModel.load(dir)) {
            for (int i = 0; i < inputs.size(); i++) {
                Encoding e = tokenizer.encode(inputs.get(i)[0], inputs.get(i)[1], EncodeOptions.DEFAULT);
                BaseModelOutputWithPooling expected = model.forward(BertInput.of(e.ids(), e.typeIds()), true, false);
                JsonNode got = out.get(i);
                List<String> tokens = new ArrayList<>();
                got.get("tokens").forEach(t -> tokens.add(t.asText()));
                assertEquals(e.tokens(), tokens);
                assertMatrixEquals(expected.lastHiddenState()[0], matrix(got.get("last_hidden_state")), "last_hidden_state");
                assertArrayEquals(expected.poolerOutput()[0], floats(got.get("pooler_output")), "pooler_output");
                JsonNode layers = got.get("hidden_states");
                assertEquals(model.config().numHiddenLayers() + 1, layers.size(), "embedding output + one per layer");
                for (int k = 0; k < layers.size(); k++) {
                    assertMatrixEquals(expected.hiddenStates().get(k)[0], matrix(layers.get(k)), "hidden_states[" + k + "]");
                }
            }
        }
    }

    /** Each reference sequence, alone and unpadded, gives the reference's values on its real tokens. */
    @Test
    void outputsMatchTheHuggingFaceReference() throws Exception {
        Path dir = model("tiny-bert");
        List<JsonNode> batches = lines(Files.readString(dir.resolve("reference_inputs.jsonl")));
        try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            int hidden = 32, layers = 2, compared = 0;
            for (JsonNode batch : batches) {
                String b = batch.get("batch").asText() + ".";
                StringBuilder stdin = new StringBuilder();
                for (JsonNode item : batch.get("texts")) stdin.append(EXACT.writeValueAsString(item)).append('\n');
                Run r = run(stdin.toString(), "encode", dir.toString(), "--all-layers");
                assertEquals(0, r.exitCode(), r.err());
                List<JsonNode> out = lines(r.out());
                long[] ids = ref.tensor(b + "input_ids").toLongArray();
                int seq = (int) ref.tensor(b + "input_ids").dim(1);
                float[] pooler = ref.tensor(b + "pooler_output").toFloatArray();
                for (int s = 0; s < out.size(); s++, compared++) {
                    JsonNode got = out.get(s);
                    int length = got.get("tokens").size();
                    assertTrue(length == seq || ids[s * seq + length] == 0, "the reference pads after the real tokens");
                    for (int k = 0; k <= layers; k++) {
                        float[] expected = ref.tensor(b + "hidden_states." + k).toFloatArray();
                        float[][] actual = matrix(got.get("hidden_states").get(k));
                        for (int t = 0; t < length; t++) {
                            for (int i = 0; i < hidden; i++) {
                                double diff = Math.abs(expected[(s * seq + t) * hidden + i] - actual[t][i]);
                                assertTrue(diff <= REFERENCE_TOLERANCE, b + " sequence " + s + " layer " + k + " token " + t + ": diff " + diff);
                            }
                        }
                    }
                    float[] pooled = floats(got.get("pooler_output"));
                    for (int i = 0; i < hidden; i++) assertEquals(pooler[s * hidden + i], pooled[i], REFERENCE_TOLERANCE);
                }
            }
            assertEquals(10, compared, "every reference sequence, pairs included");
        }
    }

    @Test
    void aTooLongLineIsAnErrorUnlessTruncationIsAsked() throws Exception {
        String dir = model("tiny-bert").toString(); // max_position_embeddings 64
        String longText = "word ".repeat(100).strip();
        String stdin = line("short one", null) + "\n" + line(longText, null) + "\n" + line("after", null) + "\n";
        Run r = run(stdin, "encode", dir);
        assertEquals(1, r.exitCode());
        List<JsonNode> out = lines(r.out());
        assertEquals(3, out.size(), "the other lines are still answered");
        assertEquals(4, out.get(0).get("tokens").size());
        String message = "line 2: the input is 102 tokens, more than the model's max_position_embeddings 64; "
                + "pass --truncate or --max-length N to truncate it";
        assertEquals(message, out.get(1).get("error").asText());
        assertEquals("bertj: " + message + "\n", r.err());
        assertEquals(3, out.get(2).get("tokens").size());

        Run truncated = run(stdin, "encode", dir, "--truncate");
        assertEquals(0, truncated.exitCode(), truncated.err());
        assertEquals(64, lines(truncated.out()).get(1).get("last_hidden_state").size());

        Run maxLength = run(stdin, "encode", dir, "--max-length", "10");
        assertEquals(0, maxLength.exitCode(), maxLength.err());
        List<JsonNode> cut = lines(maxLength.out());
        assertEquals(10, cut.get(1).get("tokens").size());
        assertEquals("[SEP]", cut.get(1).get("tokens").get(9).asText());
        assertEquals(4, cut.get(0).get("tokens").size(), "shorter inputs are not padded");

        Run tooLong = run(stdin, "encode", dir, "--max-length", "65");
        assertEquals(1, tooLong.exitCode());
        assertEquals("bertj: --max-length 65 is more than the model's max_position_embeddings 64\n", tooLong.err());
    }

    @Test
    void malformedLinesGetTheirOwnErrors() throws Exception {
        Run r = run("{\"text\": \"fine\"}\nnot json\n{\"text\": 3}\n", "encode", model("tiny-bert").toString());
        assertEquals(1, r.exitCode());
        List<JsonNode> out = lines(r.out());
        assertEquals(3, out.get(0).get("tokens").size());
        assertTrue(out.get(1).get("error").asText().startsWith("line 2: not valid JSON"), out.get(1).toString());
        assertEquals("line 3: \"text\" must be a string", out.get(2).get("error").asText());
    }

    @Test
    void aCheckpointWithoutPoolerGivesNull() throws Exception {
        Run r = run(line("Hello", null) + "\n", "encode", model("tiny-bert-tokcls").toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = lines(r.out()).getFirst();
        assertNull(out.get("hidden_states"), "hidden_states only with --all-layers");
        assertTrue(out.get("pooler_output").isNull(), out.toString());
        assertTrue(r.out().contains("\"pooler_output\":null"));
    }

    static void assertMatrixEquals(float[][] expected, float[][] actual, String what) {
        assertEquals(expected.length, actual.length, what + " rows");
        for (int i = 0; i < expected.length; i++) assertArrayEquals(expected[i], actual[i], what + " row " + i);
    }

    static void assertArrayEquals(float[] expected, float[] actual, String what) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, RERUN_TOLERANCE, what);
    }

    /** Floats are written as the shortest decimal that reads back as the same float: nothing is lost. */
    @Test
    void floatsAreWrittenLosslessly() throws Exception {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        float[] values = new float[1000];
        float[] special = {0f, -0f, 1f, 0.1f, -2.5e-8f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 16777217f, 1e10f};
        System.arraycopy(special, 0, values, 0, special.length);
        for (int i = special.length; i < values.length; i++) {
            do values[i] = Float.intBitsToFloat(random.nextInt()); while (!Float.isFinite(values[i])); // every exponent, subnormals too
        }
        java.io.StringWriter text = new java.io.StringWriter();
        try (java.io.PrintWriter out = new java.io.PrintWriter(text)) {
            com.fasterxml.jackson.core.JsonGenerator json = JsonLines.generator(out);
            JsonLines.writeFloats(json, values);
            json.flush();
        }
        // the number tokens' own text (a BigDecimal would lose the sign of -0.0)
        float[] back = new float[values.length];
        try (com.fasterxml.jackson.core.JsonParser parser = EXACT.getFactory().createParser(text.toString())) {
            int n = 0;
            for (var token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token.isNumeric()) back[n++] = Float.parseFloat(parser.getText());
            }
            assertEquals(values.length, n);
        }
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToIntBits(values[i]), Float.floatToIntBits(back[i]), "value " + values[i]);
        }
        assertTrue(text.toString().startsWith("[0.0,-0.0,1.0,0.1,-2.5E-8,1.4E-45,"), text.toString().substring(0, 60));
    }
}
