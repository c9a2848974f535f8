package example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ExampleTest {
    @Test
    void theReadmeExampleRuns() {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Example.main(new String[0]);
        } finally {
            System.setOut(stdout);
        }
        // all-MiniLM-L6-v2's cosine of these two sentences, to four places
        assertEquals("384 dimensions, similarity 0.5792\n", out.toString(StandardCharsets.UTF_8).replace("\r", ""));
    }
}
