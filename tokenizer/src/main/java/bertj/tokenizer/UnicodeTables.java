package bertj.tokenizer;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Character classes and mappings exactly as Hugging Face tokenizers 0.23 sees them. The JDK's own tables
 * are a newer Unicode than the reference's, so everything comes from data shipped with this module:
 * General_Category sets of Unicode 8.0 (the Rust crate {@code unicode_categories}), Rust's
 * {@code char::is_whitespace}, the BERT CJK ranges, and per-code-point NFD and lower-case mappings.
 */
final class UnicodeTables {
    /** Removed by clean_text: NUL, U+FFFD and Unicode 8.0 Cc (but tab, LF, CR), Cf and Co. */
    static final int DELETE = 1;
    /** Rust {@code char::is_whitespace} (the White_Space property). */
    static final int WHITESPACE = 2;
    /** ASCII punctuation or a Unicode 8.0 P* character: BertPreTokenizer isolates these. */
    static final int PUNCTUATION = 4;
    /** Unicode 8.0 Mn: dropped after NFD when accents are stripped. */
    static final int NONSPACING_MARK = 8;
    /** The BERT "Chinese character" ranges, surrounded by spaces. */
    static final int CJK = 16;
    /** NFD minus Mn gives something other than the character itself (see {@link #strippedDecomposition}). */
    static final int DECOMPOSES = 32;
    /** The lower-case mapping differs from the character. */
    static final int LOWER_CHANGES = 64;

    private static final String CATEGORIES = "unicode-8.0-categories.txt";
    private static final String MAPPINGS = "unicode-mappings.txt";
    /** The two text files above, compiled into the arrays below by {@link #write} (test sources: CompileUnicodeTables). */
    static final String COMPILED = "unicode-tables.bin";
    private static final int HANGUL_BASE = 0xAC00, HANGUL_COUNT = 11172;

    private static final class Holder {
        static final UnicodeTables INSTANCE = compiled();
    }

    /** Two-level flag table: {@code blocks[index[cp >> 8] + (cp & 0xFF)]}. */
    private final char[] index;
    private final byte[] blocks;
    private final int[] decompositionKeys;
    private final int[][] decompositions;
    private final int[] lowerKeys;
    private final int[][] lowers;

    private UnicodeTables(Flags flags, Map<Integer, int[]> decomposition, Map<Integer, int[]> lower) {
        index = new char[(Character.MAX_CODE_POINT + 1) >> 8];
        // Blocks no flag reached share block 0 (zeros) without being looked at: 3,366 of the 4,352, and a cold
        // JVM interprets this loop, so a start pays for every block it reads.
        Map<String, Integer> seen = new HashMap<>();
        byte[] packed = new byte[flags.values.length + 256];
        int used = 256;
        for (int b = 0; b < index.length; b++) {
            if (!flags.touched[b]) continue;
            byte[] block = Arrays.copyOfRange(flags.values, b << 8, (b + 1) << 8);
            String key = new String(block, StandardCharsets.ISO_8859_1);
            Integer at = seen.get(key);
            if (at == null) {
                at = used;
                System.arraycopy(block, 0, packed, used, 256);
                used += 256;
                seen.put(key, at);
            }
            index[b] = (char) (at >> 8);
        }
        blocks = Arrays.copyOf(packed, used);
        TreeMap<Integer, int[]> d = new TreeMap<>(decomposition);
        decompositionKeys = d.keySet().stream().mapToInt(Integer::intValue).toArray();
        decompositions = d.values().toArray(new int[0][]);
        TreeMap<Integer, int[]> l = new TreeMap<>(lower);
        lowerKeys = l.keySet().stream().mapToInt(Integer::intValue).toArray();
        lowers = l.values().toArray(new int[0][]);
    }

    static UnicodeTables get() {
        return Holder.INSTANCE;
    }

    /** The tables built from the text files, as {@link #COMPILED} holds them. */
    static UnicodeTables fromText() {
        return load(true);
    }

    private UnicodeTables(char[] index, byte[] blocks, int[] decompositionKeys, int[][] decompositions, int[] lowerKeys,
                          int[][] lowers) {
        this.index = index;
        this.blocks = blocks;
        this.decompositionKeys = decompositionKeys;
        this.decompositions = decompositions;
        this.lowerKeys = lowerKeys;
        this.lowers = lowers;
    }

    /**
     * The compiled tables: a start reads them in about a millisecond, where parsing the text files took 40-55 ms of a
     * cold JVM's first tokenizer (interpreted splits and parseInts over 3,000 lines).
     */
    private static UnicodeTables compiled() {
        byte[] bytes;
        try (InputStream in = UnicodeTables.class.getResourceAsStream(COMPILED)) {
            if (in == null) throw new TokenizerException("resource bertj/tokenizer/" + COMPILED + " is missing from the classpath");
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading resource bertj/tokenizer/" + COMPILED, e);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        char[] index = new char[in.getInt()];
        in.asCharBuffer().get(index);
        in.position(in.position() + 2 * index.length);
        byte[] blocks = new byte[in.getInt()];
        in.get(blocks);
        int[] decompositionKeys = ints(in);
        int[][] decompositions = jagged(in, decompositionKeys.length);
        int[] lowerKeys = ints(in);
        int[][] lowers = jagged(in, lowerKeys.length);
        if (in.hasRemaining()) throw new TokenizerException("resource bertj/tokenizer/" + COMPILED + " has trailing bytes");
        return new UnicodeTables(index, blocks, decompositionKeys, decompositions, lowerKeys, lowers);
    }

    private static int[] ints(ByteBuffer in) {
        int[] values = new int[in.getInt()];
        in.asIntBuffer().get(values);
        in.position(in.position() + 4 * values.length);
        return values;
    }

    /** {@code count} arrays stored as their lengths, then all their values. */
    private static int[][] jagged(ByteBuffer in, int count) {
        int[] lengths = new int[count];
        in.asIntBuffer().get(lengths);
        in.position(in.position() + 4 * count);
        int[] values = ints(in);
        int[][] arrays = new int[count][];
        for (int i = 0, at = 0; i < count; at += lengths[i], i++) arrays[i] = Arrays.copyOfRange(values, at, at + lengths[i]);
        return arrays;
    }

    /** Writes the tables in the form {@link #compiled} reads (big-endian). */
    void write(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(index.length);
        for (char c : index) data.writeChar(c);
        data.writeInt(blocks.length);
        data.write(blocks);
        writeTable(data, decompositionKeys, decompositions);
        writeTable(data, lowerKeys, lowers);
        data.flush();
    }

    private static void writeTable(DataOutputStream data, int[] keys, int[][] arrays) throws IOException {
        data.writeInt(keys.length);
        for (int k : keys) data.writeInt(k);
        int total = 0;
        for (int[] a : arrays) {
            data.writeInt(a.length);
            total += a.length;
        }
        data.writeInt(total);
        for (int[] a : arrays) for (int v : a) data.writeInt(v);
    }

    /** Whether both hold the same tables. */
    boolean sameAs(UnicodeTables other) {
        return Arrays.equals(index, other.index) && Arrays.equals(blocks, other.blocks)
                && Arrays.equals(decompositionKeys, other.decompositionKeys) && Arrays.deepEquals(decompositions, other.decompositions)
                && Arrays.equals(lowerKeys, other.lowerKeys) && Arrays.deepEquals(lowers, other.lowers);
    }

    /** The Unicode 8.0 sets alone, for regenerating the mapping table. */
    static UnicodeTables categoriesOnly() {
        return load(false);
    }

    int flags(int cp) {
        return blocks[(index[cp >> 8] << 8) | (cp & 0xFF)];
    }

    boolean isNonspacingMark(int cp) {
        return (flags(cp) & NONSPACING_MARK) != 0;
    }

    /** NFD of {@code cp} without its Mn characters; only valid when {@link #DECOMPOSES} is set. */
    int[] strippedDecomposition(int cp) {
        int s = cp - HANGUL_BASE;
        if (s >= 0 && s < HANGUL_COUNT) {
            // Hangul syllables decompose algorithmically into conjoining jamo (none of them Mn).
            int l = 0x1100 + s / 588, v = 0x1161 + (s % 588) / 28, t = s % 28;
            return t == 0 ? new int[] {l, v} : new int[] {l, v, 0x11A7 + t};
        }
        return decompositions[Arrays.binarySearch(decompositionKeys, cp)];
    }

    /** Rust's {@code char::to_lowercase}; only valid when {@link #LOWER_CHANGES} is set. */
    int[] lowercase(int cp) {
        return lowers[Arrays.binarySearch(lowerKeys, cp)];
    }

    // BERT's "Chinese character" ranges as in tokenizers' BertNormalizer (which leaves out U+2B820..U+2B91F).
    private static final int[][] CJK_RANGES = {{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x20000, 0x2A6DF},
        {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F}, {0x2B920, 0x2CEAF}, {0xF900, 0xFAFF}, {0x2F800, 0x2FA1F}};
    // Rust's char::is_whitespace (White_Space).
    private static final int[][] WHITESPACE_RANGES = {{0x9, 0xD}, {0x20, 0x20}, {0x85, 0x85}, {0xA0, 0xA0},
        {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};

    static boolean isRustWhitespace(int cp) {
        return inRanges(WHITESPACE_RANGES, cp);
    }

    private static boolean inRanges(int[][] ranges, int cp) {
        for (int[] r : ranges) {
            if (cp >= r[0] && cp <= r[1]) return true;
        }
        return false;
    }

    /** The flat flag table being built, and which 256-code-point blocks any flag reached. */
    private static final class Flags {
        final byte[] values = new byte[Character.MAX_CODE_POINT + 1];
        final boolean[] touched = new boolean[values.length >> 8];

        void set(int from, int to, int flag) {
            for (int cp = from; cp <= to; cp++) values[cp] |= (byte) flag;
            for (int b = from >> 8; b <= to >> 8; b++) touched[b] = true;
        }

        void clear(int cp, int flag) {
            values[cp] &= (byte) ~flag;
        }
    }

    private static UnicodeTables load(boolean withMappings) {
        Flags flags = new Flags();
        for (String line : readResource(CATEGORIES)) {
            String[] fields = line.split(" ");
            int flag = switch (fields[0]) {
                case "Cc", "Cf", "Co" -> DELETE;
                case "Mn" -> NONSPACING_MARK;
                case "P" -> PUNCTUATION;
                default -> throw new TokenizerException("bad line in resource " + CATEGORIES + ": " + line);
            };
            for (int i = 1; i < fields.length; i++) {
                int dots = fields[i].indexOf("..");
                int from = Integer.parseInt(dots < 0 ? fields[i] : fields[i].substring(0, dots), 16);
                int to = dots < 0 ? from : Integer.parseInt(fields[i].substring(dots + 2), 16);
                flags.set(from, to, flag);
            }
        }
        for (int cp : new int[] {'\t', '\n', '\r'}) flags.clear(cp, DELETE);
        flags.set(0, 0, DELETE);
        flags.set(0xFFFD, 0xFFFD, DELETE);
        for (int cp = 0; cp < 128; cp++) {
            if ((cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~')) {
                flags.set(cp, cp, PUNCTUATION);
            }
        }
        // Range by range: a test over all 1.1M code points cost 30-70 ms of a cold start.
        for (int[] r : WHITESPACE_RANGES) flags.set(r[0], r[1], WHITESPACE);
        for (int[] r : CJK_RANGES) flags.set(r[0], r[1], CJK);
        Map<Integer, int[]> decomposition = new HashMap<>();
        Map<Integer, int[]> lower = new HashMap<>();
        if (withMappings) {
            flags.set(HANGUL_BASE, HANGUL_BASE + HANGUL_COUNT - 1, DECOMPOSES);
            for (String line : readResource(MAPPINGS)) {
                String[] fields = line.split(" ");
                int cp = Integer.parseInt(fields[1], 16);
                int[] target = new int[fields.length - 2];
                for (int i = 2; i < fields.length; i++) target[i - 2] = Integer.parseInt(fields[i], 16);
                switch (fields[0]) {
                    case "D" -> { decomposition.put(cp, target); flags.set(cp, cp, DECOMPOSES); }
                    case "L" -> { lower.put(cp, target); flags.set(cp, cp, LOWER_CHANGES); }
                    default -> throw new TokenizerException("bad line in resource " + MAPPINGS + ": " + line);
                }
            }
        }
        return new UnicodeTables(flags, decomposition, lower);
    }

    private static java.util.List<String> readResource(String name) {
        try (InputStream in = UnicodeTables.class.getResourceAsStream(name)) {
            if (in == null) throw new TokenizerException("resource bertj/tokenizer/" + name + " is missing from the classpath");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return reader.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("reading resource bertj/tokenizer/" + name, e);
        }
    }
}
