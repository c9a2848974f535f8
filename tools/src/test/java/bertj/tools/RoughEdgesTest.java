package bertj.tools;

import static bertj.tools.MainTest.model;
import static bertj.tools.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.tools.MainTest.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small things a new user met: commands that write never overwrite a user's files or create directories
 * nobody asked for, errors name their cause and the flag that helps, and tokenize can turn off the tokenizer's
 * saved padding and truncation.
 */
class RoughEdgesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void randomModelRefusesADirectoryWithFilesAndLeavesThem(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("notes.txt"), "mine");
        Run r = run("", "random-model", tmp.toString(), "--config", "minilm");
        assertEquals(1, r.exitCode());
        assertEquals("bertj: " + tmp + ": exists and is not empty; give a new directory\n", r.err());
        assertEquals("mine", Files.readString(tmp.resolve("notes.txt")));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "nothing written beside it");
        }
    }

    @Test
    void exportOnnxNeedsAnExistingDirectoryAndNamesTheCause(@TempDir Path tmp) throws Exception {
        Path missing = tmp.resolve("no/such/dir/model.onnx");
        Run r = run("", "export-onnx", model("tiny-bert").toString(), missing.toString());
        assertEquals(1, r.exitCode());
        assertEquals("bertj: cannot write " + missing + ": the directory " + missing.getParent() + " does not exist\n", r.err());
        assertFalse(Files.exists(tmp.resolve("no")), "no directory created");

        Path locked = Files.createDirectory(tmp.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            if (Files.isWritable(locked)) return; // running as root: nothing is refused
            Run denied = run("", "export-onnx", model("tiny-bert").toString(), locked.resolve("m.onnx").toString());
            assertEquals(1, denied.exitCode());
            assertEquals("bertj: cannot write " + locked.resolve("m.onnx") + ": permission denied\n", denied.err());
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void classifyAndNerNameTruncateForALongInput() {
        String text = "word ".repeat(200);
        for (String[] args : new String[][] {
                {"classify", model("tiny-bert-seqcls").toString(), text},
                {"ner", model("tiny-bert-tokcls").toString(), text}}) {
            Run r = run("", args);
            assertEquals(1, r.exitCode(), args[0]);
            assertTrue(r.err().startsWith("bertj: input is ") && r.err().endsWith("; shorten it or give --truncate\n"),
                    args[0] + ": " + r.err());
            String[] truncated = {args[0], args[1], args[2], "--truncate"};
            assertEquals(0, run("", truncated).exitCode(), args[0] + " --truncate");
        }
    }

    @Test
    void tokenizeCanTurnOffTheSavedPaddingAndTruncation() throws Exception {
        // The default model's tokenizer.json pads and truncates to 128.
        String longText = "{\"text\": \"" + "word ".repeat(300) + "\"}\n";
        JsonNode saved = JSON.readTree(run(longText, "tokenize", "default").out());
        assertEquals(128, saved.get("ids").size());
        JsonNode whole = JSON.readTree(run(longText, "tokenize", "default", "--truncation", "none").out());
        assertEquals(302, whole.get("ids").size(), "300 words and [CLS], [SEP]");
        String shortText = "{\"text\": \"hello\"}\n";
        assertEquals(128, JSON.readTree(run(shortText, "tokenize", "default").out()).get("ids").size());
        assertEquals(3, JSON.readTree(run(shortText, "tokenize", "default", "--padding", "none").out()).get("ids").size());
        // As transformers: a max_length with padding off truncates (longest_first).
        assertEquals(10, JSON.readTree(run(longText, "tokenize", "default", "--padding", "none", "--max-length", "10")
                .out()).get("ids").size());
        Run stride = run(longText, "tokenize", "default", "--truncation", "none", "--stride", "2");
        assertEquals(2, stride.exitCode());
        assertTrue(stride.err().contains("--stride needs truncation"), stride.err());
    }
}
