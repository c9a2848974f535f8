package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code classify}, {@code ner} and {@code qa} on JSON Lines from stdin: one answer per line, in order, each the same as the one-text command's
 * (the batch changes no bit), with the line's text and pair; bad and over-long lines get error lines.
 */
class BatchHeadsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void classifyFromStdinAnswersEachLineAsTheOneTextCommandDoes() throws Exception {
        String dir = model("tiny-bert-seqcls").toString();
        List<String[]> inputs = new ArrayList<>();
        for (int i = 0; i < 300; i++) { // more than one window of lines
            String text = "sentence number " + i + " says " + "something ".repeat(i % 9);
            inputs.add(i % 3 == 0 ? new String[] {text, "and its pair " + i} : new String[] {text, null});
        }
        StringBuilder stdin = new StringBuilder();
        for (String[] in : inputs) {
            ObjectNode line = JSON.createObjectNode().put("text", in[0]);
            if (in[1] != null) line.put("text_pair", in[1]);
            stdin.append(line).append('\n');
        }
        stdin.insert(0, "not json\n");
        stdin.append("{\"text\": \"").append("word ".repeat(200)).append("\"}\n");
        Run r = run(stdin.toString(), "classify", dir);
        assertEquals(1, r.exitCode(), "two lines failed");
        String[] lines = r.out().split("\n");
        assertEquals(inputs.size() + 2, lines.length);
        String notJson = JSON.readTree(lines[0]).get("error").asText();
        assertTrue(notJson.startsWith("line 1: ") && notJson.contains("JSON"), notJson);
        JsonNode last = JSON.readTree(lines[lines.length - 1]);
        assertTrue(last.get("error").asText().endsWith("shorten it or give --truncate"), last.toString());
        for (int i = 0; i < inputs.size(); i += 37) {
            JsonNode batched = JSON.readTree(lines[i + 1]);
            assertEquals(inputs.get(i)[0], batched.get("text").asText());
            List<String> args = new ArrayList<>(List.of("classify", dir, inputs.get(i)[0]));
            if (inputs.get(i)[1] != null) {
                assertEquals(inputs.get(i)[1], batched.get("text_pair").asText());
                args.addAll(List.of("--pair", inputs.get(i)[1]));
            }
            JsonNode alone = JSON.readTree(run("", args.toArray(String[]::new)).out());
            assertEquals(alone.get("label"), batched.get("label"), "line " + (i + 2));
            assertEquals(alone.get("probabilities"), batched.get("probabilities"), "line " + (i + 2) + ": the same bits");
        }
    }

    @Test
    void nerFromStdinAnswersEachLineAsTheOneTextCommandDoes() throws Exception {
        String dir = model("tiny-bert-tokcls").toString();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 280; i++) texts.add("John Smith " + i + " lives in Berlin and works for Acme " + "x ".repeat(i % 7));
        StringBuilder stdin = new StringBuilder();
        for (String t : texts) stdin.append(JSON.createObjectNode().put("text", t)).append('\n');
        stdin.append("{\"text\": \"a\", \"text_pair\": \"b\"}\n");
        Run r = run(stdin.toString(), "ner", dir);
        assertEquals(1, r.exitCode(), "the pair line failed");
        String[] lines = r.out().split("\n");
        assertEquals(texts.size() + 1, lines.length);
        assertTrue(JSON.readTree(lines[texts.size()]).get("error").asText().contains("text_pair"), lines[texts.size()]);
        for (int i = 0; i < texts.size(); i += 41) {
            JsonNode batched = JSON.readTree(lines[i]);
            assertEquals(texts.get(i), batched.get("text").asText());
            JsonNode alone = JSON.readTree(run("", "ner", dir, texts.get(i)).out());
            assertEquals(alone.get("entities"), batched.get("entities"), "line " + (i + 1) + ": the same bits");
        }
    }

    @Test
    void qaFromStdinAnswersEachLineAsTheOneQuestionCommandDoes() throws Exception {
        String dir = model("tiny-bert-qa").toString();
        String[][] cases = {{"Where does John live?", "John lives in Berlin and works in Paris."},
                {"Who works in Paris?", "John lives in Berlin and works in Paris. ".repeat(12)},
                {"What is it?", "It is a test."}};
        StringBuilder stdin = new StringBuilder();
        for (int i = 0; i < cases.length; i++) {
            stdin.append(JSON.createObjectNode().put("id", "q" + i).put("question", cases[i][0]).put("context", cases[i][1])).append('\n');
        }
        stdin.append("{\"question\": \"no context\"}\n");
        Run r = run(stdin.toString(), "qa", dir);
        assertEquals(1, r.exitCode());
        String[] lines = r.out().split("\n");
        assertEquals(cases.length + 1, lines.length);
        for (int i = 0; i < cases.length; i++) {
            JsonNode batched = JSON.readTree(lines[i]);
            assertEquals("q" + i, batched.get("id").asText());
            JsonNode alone = JSON.readTree(run("", "qa", dir, "--question", cases[i][0], "--context", cases[i][1]).out());
            for (String field : List.of("answer", "start", "end", "score")) assertEquals(alone.get(field), batched.get(field), field);
        }
        assertEquals("line 4: \"context\" must be a string", JSON.readTree(lines[cases.length]).get("error").asText());
    }

    @Test
    void everyStdinCommandRepeatsTheLinesId() throws Exception {
        String line = "{\"id\": {\"doc\": 7, \"part\": [1, 2]}, \"text\": \"John lives in Berlin.\"}\n";
        for (String[] args : new String[][] {{"embed", model("tiny-bert").toString()},
                {"classify", model("tiny-bert-seqcls").toString()}, {"ner", model("tiny-bert-tokcls").toString()}}) {
            Run r = run(line, args);
            assertEquals(0, r.exitCode(), args[0] + ": " + r.err());
            JsonNode out = JSON.readTree(r.out());
            assertEquals(JSON.readTree("{\"doc\": 7, \"part\": [1, 2]}"), out.get("id"), args[0]);
            assertEquals("id", out.fieldNames().next(), args[0] + ": the id comes first");
        }
    }

    @Test
    void aPairWithoutTextIsAUsageError() {
        Run r = run("", "classify", model("tiny-bert-seqcls").toString(), "--pair", "b");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--pair needs TEXT"), r.err());
    }
}
