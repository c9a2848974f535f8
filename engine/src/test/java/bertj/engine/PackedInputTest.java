package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sequences packed without padding give each sequence the bits it gets alone, on the SIMD kernels and on their
 * scalar twins; Bert.embed, which packs its texts into several forwards, gives each text the bits it gets alone.
 */
class PackedInputTest {
    private static final int[] LENGTHS = {1, 2, 5, 16, 17, 33, 64, 3};

    @Test
    void packedSequencesGiveTheBitsTheyGetAlone() {
        try (Reference ref = new Reference("tiny-bert"); BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL)) {
            List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
            for (int s = 0; s < LENGTHS.length; s++) {
                ids.add(tokens(LENGTHS[s], s + 3));
                int[] t = new int[LENGTHS[s]];
                for (int i = LENGTHS[s] / 2; i < LENGTHS[s]; i++) t[i] = 1; // a second segment, as a text pair has
                types.add(t);
            }
            for (int twinForwards : new int[] {Integer.MAX_VALUE, 0}) {
                model.setTwinForwards(twinForwards);
                int hidden = model.config().hiddenSize();
                List<Integer> seen = new ArrayList<>();
                model.forward(PackedInput.of(ids, types), (s, rows, pooled) -> {
                    seen.add(s);
                    BaseModelOutputWithPooling alone = model.forward(BertInput.of(ids.get(s), types.get(s)));
                    assertEquals(LENGTHS[s] * (long) hidden * Float.BYTES, rows.byteSize());
                    for (int t = 0; t < LENGTHS[s]; t++) {
                        assertArrayEquals(alone.lastHiddenState()[0][t], row(rows, t, hidden),
                                "sequence " + s + ", token " + t + ", twins " + (twinForwards > 0));
                    }
                    assertArrayEquals(alone.poolerOutput()[0], row(pooled, 0, hidden), "pooler of sequence " + s);
                    assertTrue(rows.isReadOnly());
                });
                assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), seen);
            }
        }
    }

    @Test
    void packedClassificationLogitsAreThoseOfEachSequenceAlone() {
        try (Reference ref = new Reference("tiny-bert-seqcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL)) {
            List<int[]> ids = new ArrayList<>();
            for (int s = 0; s < LENGTHS.length; s++) ids.add(tokens(LENGTHS[s], s + 3));
            float[][] packed = bert.sequenceLogits(PackedInput.of(ids, null));
            assertEquals(LENGTHS.length, packed.length);
            for (int s = 0; s < LENGTHS.length; s++) {
                assertArrayEquals(bert.sequenceLogits(BertInput.of(ids.get(s), new int[LENGTHS[s]]))[0], packed[s], "sequence " + s);
            }
        }
    }

    @Test
    void classificationOfPackedLogitsIsClassifyOfEachText() {
        try (Reference ref = new Reference("tiny-bert-seqcls"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL)) {
            List<String> texts = List.of("This movie is absolutely fantastic!", "I did not enjoy the film at all.", "Hello, world!");
            List<int[]> ids = new ArrayList<>();
            for (String text : texts) ids.add(bert.tokenizer().encode(text).ids());
            float[][] logits = bert.sequenceLogits(PackedInput.of(ids, null));
            for (int s = 0; s < texts.size(); s++) {
                Results.Classification expected = bert.classify(texts.get(s)), got = bert.classification(logits[s]);
                assertEquals(expected.label(), got.label());
                assertEquals(expected.score(), got.score(), 0.0);
                assertEquals(expected.probabilities(), got.probabilities());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bert.classification(new float[2]));
            assertEquals("2 logits for a head of 3 labels", e.getMessage());
        }
    }

    @Test
    void theSimdTwinsGiveTheSimdBitsOnAPaddedBatchWithProbabilities() {
        try (Reference ref = new Reference("tiny-bert"); BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL)) {
            for (String batch : ref.batches()) {
                BertInput input = ref.input(batch);
                model.setTwinForwards(Integer.MAX_VALUE);
                BaseModelOutputWithPooling twins = model.forward(input, true, true);
                model.setTwinForwards(0);
                BaseModelOutputWithPooling simd = model.forward(input, true, true);
                for (int layer = 0; layer < simd.hiddenStates().size(); layer++) {
                    assertArrayEquals(simd.hiddenStates().get(layer), twins.hiddenStates().get(layer), batch + " layer " + layer);
                }
                for (int layer = 0; layer < simd.attentions().size(); layer++) {
                    assertArrayEquals(simd.attentions().get(layer), twins.attentions().get(layer), batch + " attention " + layer);
                }
                assertArrayEquals(simd.poolerOutput(), twins.poolerOutput(), batch + " pooler");
            }
        }
    }

    @Test
    void embedGivesEachTextTheBitsItGetsAloneAcrossForwards() {
        try (Reference ref = new Reference("tiny-bert"); Bert bert = Bert.load(ref.modelDir, BertModelParityTest.POOL)) {
            List<String> texts = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 400; i++) {
                text.append(i % 7 == 0 ? " the" : " word").append(i % 3 == 0 ? "s" : "");
                texts.add(text.length() > 400 ? text.substring(text.length() - 1 - i % 300) : text.toString());
            }
            int tokens = 0;
            for (String t : texts) tokens += Math.min(bert.maxLength(), bert.tokenizer().encode(t).length());
            assertTrue(tokens > 2 * Bert.EMBED_BATCH_TOKENS, "the texts fill several forwards: " + tokens + " tokens");
            for (Pooling pooling : Pooling.values()) {
                float[][] all = bert.embed(texts, pooling, true);
                for (int i = 0; i < texts.size(); i += 13) {
                    assertArrayEquals(bert.embed(List.of(texts.get(i)), pooling, true)[0], all[i], pooling + " text " + i);
                }
            }
        }
    }

    @Test
    void malformedPackingIsRefusedWithItsReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PackedInput(new int[3], new int[3], new int[] {0, 2, 2, 3}));
        assertTrue(e.getMessage().contains("sequence 1 is empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PackedInput(new int[3], new int[2], new int[] {0, 3}));
        assertTrue(e.getMessage().contains("tokenTypeIds has 2 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PackedInput(new int[3], new int[3], new int[] {0, 2}));
        assertTrue(e.getMessage().contains("starts must run from 0 to the 3 tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PackedInput.of(List.of(new int[2]), List.of(new int[3])));
        assertTrue(e.getMessage().contains("2 ids and 3 type ids"), e.getMessage());
    }

    @Test
    void aPackedSequenceLongerThanThePositionsIsRefused() {
        try (Reference ref = new Reference("tiny-bert"); BertModel model = BertModel.load(ref.modelDir, BertModelParityTest.POOL)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(PackedInput.of(List.of(tokens(3, 1), tokens(65, 2)), null), (s, rows, pooled) -> { }));
            assertTrue(e.getMessage().contains("sequence length 65 is longer than max_position_embeddings 64"), e.getMessage());
        }
    }

    private static float[] row(MemorySegment rows, int t, int hidden) {
        float[] out = new float[hidden];
        MemorySegment.copy(rows, ValueLayout.JAVA_FLOAT, (long) t * hidden * Float.BYTES, out, 0, hidden);
        return out;
    }

    /** [CLS] some ids [SEP] (tiny-bert's vocabulary: 2 and 3), {@code n} in all. */
    private static int[] tokens(int n, int seed) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 10 + (i * seed + 7) % 50;
        ids[0] = 2;
        if (n > 1) ids[n - 1] = 3;
        return ids;
    }
}
