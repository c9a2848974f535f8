package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} gets an exception that names the flag when it
 * loads a model, not a bare NoClassDefFoundError; without native access it gets a warning.
 */
class JvmFlagsTest {
    /** Loads a model in this JVM and prints what happened: "loaded", or the exception's class and message. */
    public static void main(String[] args) {
        try (BertModel model = BertModel.load(Path.of(args[0]))) {
            System.out.println("loaded " + model.config().hiddenSize());
        } catch (Throwable t) {
            System.out.println(t.getClass().getName() + ": " + t.getMessage());
        }
    }

    @Test
    void withoutTheVectorModuleTheErrorNamesTheFlag() throws Exception {
        String out = run(List.of());
        assertEquals("java.lang.IllegalStateException: bertj's kernels need the JVM flag --add-modules "
                + "jdk.incubator.vector (the Vector API is an incubator module); add it to the java command line", out.strip());
    }

    @Test
    void withoutNativeAccessItLoadsAndWarnsOnce() throws Exception {
        String out = run(List.of("--add-modules", "jdk.incubator.vector"));
        assertTrue(out.contains("loaded 32"), out);
        assertTrue(out.contains("--enable-native-access=ALL-UNNAMED"), out);
    }

    private static String run(List<String> flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), JvmFlagsTest.class.getName(),
                Fixtures.model("tiny-bert").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM ended");
        return new String(output, StandardCharsets.UTF_8);
    }
}
