package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link GemmPlan}: its pieces cover the call exactly, and it prints. */
class GemmPlanTest {
    @Test
    void tasksCoverEveryRowAndPanelOnce() {
        int[] ms = {1, 3, 4, 5, 8, 16, 17, 128, 512, 1025, 4100};
        int[] ks = {1, 37, 384, 768, 1536, 3072, 3073};
        int[] ns = {1, 33, 384, 1152, 3072};
        for (int m : ms) {
            for (int k : ks) {
                for (int n : ns) {
                    for (int threads = 1; threads <= 4; threads++) {
                        GemmPlan plan = GemmPlan.of(m, k, n, threads);
                        String where = plan.toString();
                        int passM = Math.min(m, plan.passRows());
                        assertEquals(0, plan.rowBlock() % Tuning.TILE_ROWS, where);
                        assertTrue(plan.rowBlock() <= Math.max(Tuning.ROW_BLOCK, Tuning.TILE_ROWS), where);
                        assertTrue((long) plan.rowBlocks() * plan.rowBlock() >= passM, where);
                        assertTrue((long) (plan.rowBlocks() - 1) * plan.rowBlock() < passM, where);
                        assertEquals((n + Tuning.PANEL_WIDTH - 1) / Tuning.PANEL_WIDTH, plan.panels(), where);
                        assertTrue((long) plan.panelRuns() * plan.panelsPerTask() >= plan.panels(), where);
                        assertTrue((long) (plan.panelRuns() - 1) * plan.panelsPerTask() < plan.panels(), where);
                        assertTrue((long) plan.kBlocks() * plan.kBlock() >= k, where);
                        assertTrue(plan.kBlock() <= Tuning.K_BLOCK, where);
                        assertEquals(m <= 4 ? 4 : Tuning.TILE_ROWS, plan.tileRows(), where);
                        assertTrue(plan.xCopyFloats() >= Math.min(plan.rowBlock(), passM) * k, where);
                        if (threads == 1) {
                            assertEquals(1, plan.panelRuns(), where);
                        }
                    }
                }
            }
        }
    }

    @Test
    void longInputsGoInPasses() {
        GemmPlan plan = GemmPlan.of(5000, 768, 768, 2, 1000);
        assertEquals(Tuning.ROW_BLOCK, plan.passRows());
        assertEquals(5, plan.passes());
        assertEquals(1, GemmPlan.of(5000, 768, 768, 2).passes());
    }

    @Test
    void describes() {
        String text = GemmPlan.of(128, 384, 1536, 2).describe();
        assertTrue(text.startsWith("GEMM plan for m=128 k=384 n=1536 on 2 thread(s)"), text);
        assertTrue(text.contains("tasks: "), text);
        assertThrows(IllegalArgumentException.class, () -> GemmPlan.of(0, 1, 1, 1));
    }
}
