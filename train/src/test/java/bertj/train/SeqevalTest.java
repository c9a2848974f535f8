package bertj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** seqeval's documented answers (its README and the conlleval chunk rules it follows). */
class SeqevalTest {
    static List<String> tags(String s) {
        return List.of(s.split(" "));
    }

    @Test
    void theReadmeExample() {
        List<List<String>> expected = List.of(tags("O O O B-MISC I-MISC I-MISC O"), tags("B-PER I-PER O"));
        List<List<String>> predicted = List.of(tags("O O B-MISC I-MISC I-MISC I-MISC O"), tags("B-PER I-PER O"));
        Seqeval.Scores s = Seqeval.score(expected, predicted);
        assertEquals(0.5, s.precision(), 0);
        assertEquals(0.5, s.recall(), 0);
        assertEquals(0.5, s.f1(), 0);
    }

    @Test
    void chunkRules() {
        // get_entities(['B-PER', 'I-PER', 'O', 'B-LOC']) == [('PER', 0, 1), ('LOC', 3, 3)]
        assertEquals(Set.of(new Seqeval.Entity("PER", 0, 1), new Seqeval.Entity("LOC", 3, 3)),
                Seqeval.entities(List.of(tags("B-PER I-PER O B-LOC")), "t"));
        // an I- after O, or after another type, starts an entity
        assertEquals(Set.of(new Seqeval.Entity("PER", 1, 2)), Seqeval.entities(List.of(tags("O I-PER I-PER")), "t"));
        assertEquals(Set.of(new Seqeval.Entity("PER", 0, 0), new Seqeval.Entity("LOC", 1, 1)),
                Seqeval.entities(List.of(tags("B-PER I-LOC")), "t"));
        // B- after B- of the same type: two entities; sentences are joined with an O between them
        assertEquals(Set.of(new Seqeval.Entity("PER", 0, 0), new Seqeval.Entity("PER", 1, 1), new Seqeval.Entity("PER", 3, 3)),
                Seqeval.entities(List.of(tags("B-PER B-PER"), tags("I-PER")), "t"));
    }

    @Test
    void noEntitiesScoreZero() {
        Seqeval.Scores s = Seqeval.score(List.of(tags("O O")), List.of(tags("B-PER O")));
        assertEquals(0, s.precision(), 0);
        assertEquals(0, s.recall(), 0);
        assertEquals(0, s.f1(), 0);
        assertEquals(1, s.predictedEntities());
    }
}
