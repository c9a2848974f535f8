package bertj.bench;

import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tokenizer.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench/corpus/mixed-1000.jsonl is what its README says it is. */
class CorpusFileTest {
    static final Path CORPUS = Path.of("corpus", "mixed-1000.jsonl"); // tests run in the module's directory

    @TempDir
    Path tmp;

    @Test
    void parsesAsEmbedReadsIt() throws Exception {
        List<String> texts = CorpusBench.readTexts(CORPUS);
        assertEquals(1000, texts.size());
        assertEquals(1000, new HashSet<>(texts).size(), "no text twice");
        assertTrue(Files.size(CORPUS) < 256 * 1024, "small: " + Files.size(CORPUS) + " bytes");
    }

    @Test
    void hasTheLengthsTheReadmeGives() throws Exception {
        List<String> texts = CorpusBench.readTexts(CORPUS);
        // bert-base-uncased's vocabulary, lower-cased: all-MiniLM-L6-v2's tokenizer
        BertTokenizer tokenizer = BertTokenizer.fromDirectory(TinyModels.model(tmp.resolve("model"), 1));
        int[] lengths = tokenizer.encodeBatch(texts, null, EncodeOptions.DEFAULT).stream().mapToInt(Encoding::length).toArray();
        long total = 0, cut = 0;
        int over128 = 0, over256 = 0;
        for (int n : lengths) {
            total += n;
            cut += Math.min(n, 256);
            if (n > 128) over128++;
            if (n > 256) over256++;
        }
        Arrays.sort(lengths);
        assertEquals(33.0, CorpusBench.median(lengths));
        assertEquals(12, lengths[CorpusBench.nearestRank(lengths.length, 10)]);
        assertEquals(127, lengths[CorpusBench.nearestRank(lengths.length, 90)]);
        assertEquals(383, lengths[CorpusBench.nearestRank(lengths.length, 99)]);
        assertEquals(1380, lengths[lengths.length - 1]);
        assertEquals(99, over128);
        assertEquals(31, over256);
        assertEquals(61_450, total);
        assertEquals(54_231, cut);
    }

    @Test
    void hasManyScripts() throws Exception {
        List<String> texts = CorpusBench.readTexts(CORPUS);
        int[] counts = new int[Character.UnicodeScript.values().length];
        for (String text : texts) {
            boolean[] seen = new boolean[counts.length];
            text.codePoints().filter(Character::isLetter).forEach(c -> seen[Character.UnicodeScript.of(c).ordinal()] = true);
            for (int s = 0; s < seen.length; s++) if (seen[s]) counts[s]++;
        }
        assertEquals(907, counts[Character.UnicodeScript.LATIN.ordinal()]);
        assertEquals(78, counts[Character.UnicodeScript.CYRILLIC.ordinal()]);
        assertEquals(18, counts[Character.UnicodeScript.HANGUL.ordinal()]);
        assertEquals(13, counts[Character.UnicodeScript.DEVANAGARI.ordinal()]);
        assertEquals(9, counts[Character.UnicodeScript.ARABIC.ordinal()]);
        assertEquals(6, counts[Character.UnicodeScript.GREEK.ordinal()]);
        assertEquals(5, counts[Character.UnicodeScript.THAI.ordinal()]);
        assertTrue(counts[Character.UnicodeScript.HAN.ordinal()] >= 40, "CJK ideographs in " + counts[Character.UnicodeScript.HAN.ordinal()]);
        assertTrue(counts[Character.UnicodeScript.HIRAGANA.ordinal()] + counts[Character.UnicodeScript.KATAKANA.ordinal()] >= 14);
    }
}
