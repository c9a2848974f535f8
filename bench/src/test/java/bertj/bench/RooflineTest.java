package bertj.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bench roofline} measures both ceilings and reports them as JSON lines (what it measures is not asserted: speed is the host's). */
class RooflineTest {
    @Test
    void printsTheFmaPeakAndTheReadBandwidthPerThreadCount() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = BenchMain.run(new String[] {"roofline", "--threads", "1,2", "--seconds", "0.05"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(BenchMain.OK, code, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(4, lines.size(), out.toString());
        ObjectMapper json = new ObjectMapper();
        String[][] expected = {{"fma", "1", "gflops"}, {"fma", "2", "gflops"}, {"read", "1", "gb_per_s"}, {"read", "2", "gb_per_s"}};
        for (int i = 0; i < 4; i++) {
            JsonNode line = json.readTree(lines.get(i));
            assertEquals(expected[i][0], line.get("measure").asText());
            assertEquals(Integer.parseInt(expected[i][1]), line.get("threads").asInt());
            String unit = expected[i][2];
            double min = line.get(unit + "_per_thread_min").asDouble(), max = line.get(unit + "_per_thread_max").asDouble();
            assertTrue(min > 0 && min <= max && line.get(unit + "_total").asDouble() >= max, lines.get(i));
        }
    }

    @Test
    void refusesAThreadCountOfZero() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = BenchMain.run(new String[] {"roofline", "--threads", "0"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(BenchMain.USAGE, code);
        assertTrue(err.toString().startsWith("bertj: --threads must be 1 to 256, got 0"), err.toString());
    }
}
