package bertj.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import bertj.loader.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code Bert.load(String)} and {@code BertModel.load(String)}: an existing local path wins over the Hub (fetching by
 * name is tested against a fake Hub in loader and, end to end, in tools).
 */
class LoadByNameTest {
    @Test
    void anExistingPathIsLoadedAsADirectory() {
        Path dir = BertReliabilityTest.model("tiny-bert");
        try (Bert byName = Bert.load(dir.toString()); Bert byPath = Bert.load(dir)) {
            assertEquals(dir, byName.model().directory().path());
            assertArrayEquals(byPath.embed("a local path wins"), byName.embed("a local path wins"));
        }
        try (BertModel model = BertModel.load(dir.toString())) {
            assertEquals(dir, model.directory().path());
        }
    }

    @Test
    void neitherAPathNorAModelNameIsRefusedWithoutAsking() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Bert.load("/no/such/model"));
        assertTrue(e.getMessage().startsWith("/no/such/model: no such model directory, and not a Hugging Face model name"),
                e.getMessage());
        assertEquals("model is empty: give a model directory or a Hugging Face model name",
                assertThrows(IllegalArgumentException.class, () -> BertModel.load(" ")).getMessage());
    }
}
