package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A padded batch is sized by its sequences, and one that padding would multiply is refused before it is allocated. */
class BertInputTest {
    @Test
    void padsToTheLongest() {
        BertInput input = BertInput.padded(List.of(new int[] {1, 2, 3}, new int[] {4}), null, 0);
        assertEquals(3, input.seqLen());
        assertArrayEquals(new int[] {1, 2, 3, 4, 0, 0}, input.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, input.attentionMask());
    }

    /** 70,000 rows padded to one of 70,000 tokens: 4.9 billion ids, past an int (it once wrapped around) and any heap. */
    @Test
    void oneLongSequenceAmongManyShortOnesIsRefused() {
        List<int[]> rows = new ArrayList<>();
        rows.add(new int[70_000]);
        for (int i = 1; i < 70_000; i++) rows.add(new int[] {7});
        long before = ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BertInput.padded(rows, null, 0));
        long allocated = ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < (1 << 20), allocated + " bytes allocated before refusing");
        assertEquals("padding 70000 sequences (139999 tokens) to the longest, 70000 tokens, makes 4900000000 tokens: over the limit of"
                + " 4194304 (16 times their tokens, or 4194304); split the batch by length", e.getMessage());
    }
}
