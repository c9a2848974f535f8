package bertj.tools.export;

import bertj.loader.ModelDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two commands as picocli runs them (bertj.tools.Main registers them as subcommands). */
class ExportCommandsTest {
    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Object command, String... args) {
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void exportOnnxWritesTheFileAndSaysSo() {
        Path onnx = tmp.resolve("tiny.onnx");
        int code = run(new ExportOnnxCommand(), OnnxExporterTest.fixture("tiny-bert").toString(), onnx.toString());
        assertEquals(0, code, err.toString());
        assertTrue(Files.isRegularFile(onnx));
        assertTrue(out.toString().startsWith("wrote " + onnx), out.toString());
    }

    @Test
    void exportOnnxWithoutAnOutputIsAUsageError() {
        assertEquals(2, run(new ExportOnnxCommand(), OnnxExporterTest.fixture("tiny-bert").toString()));
        assertTrue(err.toString().contains("OUT.onnx"), err.toString());
    }

    @Test
    void randomModelWritesTheNamedShape() {
        int code = run(new RandomModelCommand(), tmp.toString(), "--config", "minilm", "--seed", "3");
        assertEquals(0, code, err.toString());
        try (ModelDirectory dir = ModelDirectory.open(tmp)) {
            assertEquals(384, dir.config().hiddenSize());
            assertEquals(6, dir.config().numHiddenLayers());
        }
        assertTrue(out.toString().contains("minilm") && out.toString().contains("seed 3"), out.toString());
    }

    @Test
    void anUnknownConfigIsAUsageErrorNamingTheKnownOnes() {
        assertEquals(2, run(new RandomModelCommand(), tmp.toString(), "--config", "bert-huge"));
        assertTrue(err.toString().contains("bert-huge") && err.toString().contains("bert-base, minilm"), err.toString());
        assertFalse(Files.exists(tmp.resolve("model.safetensors")));
    }

    @Test
    void aSeedThatIsNotANumberIsAUsageError() {
        assertEquals(2, run(new RandomModelCommand(), tmp.toString(), "--seed", "abc"));
    }
}
