package bertj.bench;

import bertj.engine.BertInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomInputsTest {
    @TempDir
    Path tmp;

    @Test
    void sequencesAreClsWordsSepWithinTheVocabulary() {
        RandomInputs inputs = RandomInputs.forModel(TinyModels.model(tmp, 1)); // bert-base-uncased vocab: [CLS] 101, [SEP] 102
        BertInput batch = inputs.batch(3, 40, 9);
        assertEquals(3, batch.batch());
        assertEquals(40, batch.seqLen());
        for (int b = 0; b < 3; b++) {
            assertEquals(101, batch.inputIds()[b * 40]);
            assertEquals(102, batch.inputIds()[b * 40 + 39]);
            for (int t = 1; t < 39; t++) {
                int id = batch.inputIds()[b * 40 + t];
                assertTrue(id > 0 && id < 30522 && id != 101 && id != 102, "id " + id);
            }
            assertEquals(40, batch.length(b));
        }
        for (int type : batch.tokenTypeIds()) assertEquals(0, type);
    }

    @Test
    void theSeedDeterminesTheIds() {
        RandomInputs inputs = RandomInputs.forModel(TinyModels.model(tmp, 1));
        assertArrayEquals(inputs.batch(2, 16, 5).inputIds(), inputs.batch(2, 16, 5).inputIds());
        assertFalse(java.util.Arrays.equals(inputs.batch(2, 16, 5).inputIds(), inputs.batch(2, 16, 6).inputIds()));
    }
}
