package bertj.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.fixtures.Fixtures;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    record Run(int exitCode, String out, String err) {
    }

    static Run run(String stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    static Path model(String name) {
        return Fixtures.model(name);
    }

    /** sum(p.numel()) computed from the file itself, not from the config. */
    static long tensorElements(Path dir) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            return f.tensors().stream().mapToLong(Tensor::elementCount).sum();
        }
    }

    @Test
    void inspectPrintsWhatPyTorchPrints() {
        Path dir = model("tiny-bert");
        Run r = run("", "inspect", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        assertEquals("""
                BertModel(
                  (embeddings): BertEmbeddings(
                    (word_embeddings): Embedding(30522, 32, padding_idx=0)
                    (position_embeddings): Embedding(64, 32)
                    (token_type_embeddings): Embedding(2, 32)
                    (LayerNorm): LayerNorm((32,), eps=1e-12, elementwise_affine=True)
                    (dropout): Dropout(p=0.1, inplace=False)
                  )
                  (encoder): BertEncoder(
                    (layer): ModuleList(
                      (0-1): 2 x BertLayer(
                        (attention): BertAttention(
                          (self): BertSelfAttention(
                            (query): Linear(in_features=32, out_features=32, bias=True)
                            (key): Linear(in_features=32, out_features=32, bias=True)
                            (value): Linear(in_features=32, out_features=32, bias=True)
                            (dropout): Dropout(p=0.1, inplace=False)
                          )
                          (output): BertSelfOutput(
                            (dense): Linear(in_features=32, out_features=32, bias=True)
                            (LayerNorm): LayerNorm((32,), eps=1e-12, elementwise_affine=True)
                            (dropout): Dropout(p=0.1, inplace=False)
                          )
                        )
                        (intermediate): BertIntermediate(
                          (dense): Linear(in_features=32, out_features=64, bias=True)
                          (intermediate_act_fn): GELUActivation()
                        )
                        (output): BertOutput(
                          (dense): Linear(in_features=64, out_features=32, bias=True)
                          (LayerNorm): LayerNorm((32,), eps=1e-12, elementwise_affine=True)
                          (dropout): Dropout(p=0.1, inplace=False)
                        )
                      )
                    )
                  )
                  (pooler): BertPooler(
                    (dense): Linear(in_features=32, out_features=32, bias=True)
                    (activation): Tanh()
                  )
                )
                parameters: %d
                file: model.safetensors (4.0 MB)
                dtype: F32: 39 tensors, 997024 values (4.0 MB)
                """.formatted(tensorElements(dir)), r.out());
    }

    @Test
    void inspectShowsTheTaskHead() {
        Path seqcls = model("tiny-bert-seqcls");
        Run r = run("", "inspect", seqcls.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("BertForSequenceClassification(\n  (bert): BertModel(\n    (embeddings): BertEmbeddings(\n"), r.out());
        assertTrue(r.out().contains("            (intermediate_act_fn): NewGELUActivation()\n"), r.out());
        assertTrue(r.out().contains("""
                    (pooler): BertPooler(
                      (dense): Linear(in_features=32, out_features=32, bias=True)
                      (activation): Tanh()
                    )
                  )
                  (dropout): Dropout(p=0.1, inplace=False)
                  (classifier): Linear(in_features=32, out_features=3, bias=True)
                )
                parameters: %d
                """.formatted(tensorElements(seqcls))), r.out());

        Path qa = model("tiny-bert-qa");
        r = run("", "inspect", qa.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertFalse(r.out().contains("pooler"), "the QA checkpoint has no pooler, so none is shown");
        assertTrue(r.out().contains("""
                    )
                  )
                  (qa_outputs): Linear(in_features=48, out_features=2, bias=True)
                )
                parameters: %d
                """.formatted(tensorElements(qa))), r.out());
    }

    @Test
    void inspectDefaultDescribesAllMiniLm() {
        Run r = run("", "inspect", "default");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("      (0-5): 6 x BertLayer(\n"), r.out());
        assertTrue(r.out().contains("\nparameters: 22713216\n"), r.out());
    }

    @Test
    void wrongArgumentsAreUsageErrors() {
        for (String[] args : new String[][] {{}, {"inspect"}, {"inspect", "--bogus", "x"}, {"inspect", "a", "b"}, {"inpsect", "x"}}) {
            Run r = run("", args);
            assertEquals(2, r.exitCode(), String.join(" ", args));
            assertEquals("", r.out());
            assertTrue(r.err().startsWith("bertj: "), r.err());
            assertTrue(r.err().contains("Usage: bertj"), r.err());
        }
        assertTrue(run("", "inpsect", "x").err().contains("Did you mean: bertj inspect"));
    }

    @Test
    void errorsAreOneLineUnlessDebugging(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": ");
        Run r = run("", "inspect", dir.toString());
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("bertj: " + dir.resolve("config.json")), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        Run missing = run("", "inspect", dir.resolve("missing").toString());
        assertEquals("bertj: " + dir.resolve("missing") + ": no such model directory (give a model directory, a Hugging Face model name such as org/name, or \"default\")\n",
                missing.err());
        assertEquals("bertj: MODEL is empty: give a model directory, a Hugging Face model name such as org/name, or \"default\"\n", run("", "inspect", "").err());

        Run debug = run("", "inspect", "--debug", dir.toString());
        assertEquals(1, debug.exitCode());
        assertTrue(debug.err().contains("\tat bertj."), "--debug shows the stack trace");
        assertTrue(debug.err().endsWith("\n" + r.err()), "and still ends with the one-line message");
    }

    @Test
    void helpAndVersion() {
        Run help = run("", "--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.out().contains("inspect"));
        assertTrue(run("", "inspect", "--help").out().startsWith("Usage: bertj inspect"));
        Run version = run("", "--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.out().startsWith("bertj " + BuildInfo.VERSION + "\n"), version.out());
    }
}
