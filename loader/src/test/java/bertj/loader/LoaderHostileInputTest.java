package bertj.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.testsupport.FuzzHarness;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes and counts read from a file are checked against what the file holds before anything is allocated by
 * them: each refusal here costs less heap than a megabyte or so, whatever the number claims.
 */
class LoaderHostileInputTest {
    @TempDir Path tmp;

    /** A header that claims 2^40 elements (4 TiB of F32) in a 100-byte file. */
    @Test
    void aHugeClaimedShapeIsRefusedBeforeAllocation() {
        Path file = TestData.rawFile(tmp.resolve("huge.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4398046511104]}}", 16);
        long before = FuzzHarness.allocatedBytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file).close());
        long allocated = FuzzHarness.allocatedBytes() - before;
        assertTrue(e.getMessage().contains("reach beyond the data section"), e.getMessage());
        assertTrue(allocated < 1 << 20, "allocated " + allocated + " bytes to refuse a 100-byte file");
    }

    /** num_hidden_layers = 2^31 - 1 against a two-layer checkpoint fails at the first missing layer. */
    @Test
    void aHugeLayerCountIsRefusedAtTheFirstMissingLayer() {
        BertConfig config = BertConfig.builder().hiddenSize(32).numAttentionHeads(4).intermediateSize(64)
                .maxPositionEmbeddings(64).numHiddenLayers(Integer.MAX_VALUE).build();
        try (Checkpoint weights = Checkpoint.open(TestData.model("tiny-bert-seqcls"))) {
            long before = FuzzHarness.allocatedBytes();
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> new BertCheckpoint(weights, config).parameterCount());
            long allocated = FuzzHarness.allocatedBytes() - before;
            assertTrue(e.getMessage().contains("missing tensor \"encoder.layer.2."), e.getMessage());
            assertTrue(allocated < 8 << 20, "allocated " + allocated + " bytes to refuse the config");
        }
    }

    /** num_labels = 2^31 - 1 with no id2label would make up two billion label names. */
    @Test
    void aHugeUnnamedLabelCountIsRefused() {
        long before = FuzzHarness.allocatedBytes();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> BertConfig.parse("{\"num_labels\": 2147483647}", "config.json"));
        long allocated = FuzzHarness.allocatedBytes() - before;
        assertTrue(e.getMessage().contains("config.json: num_labels is 2147483647 without id2label"), e.getMessage());
        assertTrue(allocated < 1 << 20, "allocated " + allocated + " bytes to refuse the config");
        // as many labels as a real model has are made up as before
        assertEquals(4096, BertConfig.parse("{\"num_labels\": " + BertConfig.MAX_UNNAMED_LABELS + "}", "config.json").numLabels());
    }

    /**
     * Found by a guided run: num_labels 64,000 without id2label (within the former cap of 65,536) made 64,000 label
     * names twice per config read, 107 MB of heap for the fuzz target's load and round trip of a 22 kB file. More than
     * 4096 unnamed labels are refused; named ones cost what the file holds.
     */
    @Test
    void manyUnnamedLabelsAreRefused() {
        String config = new String(FuzzHarness.corpusInput("config-json", "num-labels-64000-without-names.bin"), StandardCharsets.UTF_8);
        long before = FuzzHarness.allocatedBytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BertConfig.parse(config, "config.json"));
        assertTrue(FuzzHarness.allocatedBytes() - before < 8 << 20, "allocated " + (FuzzHarness.allocatedBytes() - before) + " bytes");
        assertEquals("config.json: num_labels is 64000 without id2label; more than 4096 labels need an explicit id2label", e.getMessage());
    }
}
