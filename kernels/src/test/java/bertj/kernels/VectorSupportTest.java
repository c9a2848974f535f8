package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorSupportTest {
    @Test
    void usesTheForcedWidthOrThePreferredOne() {
        String forced = System.getProperty(VectorSupport.VECTOR_BITS_PROPERTY);
        int expected = forced == null ? FloatVector.SPECIES_PREFERRED.vectorBitSize() : Integer.parseInt(forced);
        assertEquals(expected, VectorSupport.vectorBits());
        assertEquals(expected / 32, VectorSupport.floatLanes());
        assertEquals(2 * VectorSupport.floatLanes(), PackedLinear.PANEL_WIDTH);
        String description = VectorSupport.describe();
        assertTrue(description.contains(expected + "-bit vectors"), description);
        assertTrue(description.contains(forced == null ? "preferred by this CPU" : "forced by"), description);
    }
}
