package bertj.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * WordPiece model: greedy longest-match-first over a word, continuation pieces carry the {@code ##}
 * prefix, and a word that cannot be covered completely or is longer than
 * {@code maxInputCharsPerWord} code points becomes one unknown token spanning the whole word
 * (tokenizers' {@code models/wordpiece}).
 *
 * <p>Lookups hash substrings of the word through prefix hashes (the {@link String#hashCode} polynomial),
 * so trying every candidate end costs O(1) each and allocates nothing.
 */
final class WordPiece {
    /** Receives the pieces of a word: vocabulary id and [start, end) in the word's char array. */
    interface Sink {
        void piece(int id, int start, int end);
    }

    private static final int[] POW31 = new int[1024];

    static {
        POW31[0] = 1;
        for (int i = 1; i < POW31.length; i++) POW31[i] = POW31[i - 1] * 31;
    }

    private final CharTable whole;
    private final CharTable continuation;
    final int unkId;
    final String continuingSubwordPrefix;
    final int maxInputCharsPerWord;

    /**
     * @param vocab token -> id, as the model's vocabulary
     * @param unkId id of the unknown token (must be in the vocabulary)
     */
    WordPiece(Map<String, Integer> vocab, int unkId, String continuingSubwordPrefix, int maxInputCharsPerWord) {
        this.unkId = unkId;
        this.continuingSubwordPrefix = continuingSubwordPrefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.whole = new CharTable(vocab.size());
        int continued = (int) vocab.keySet().stream().filter(k -> k.startsWith(continuingSubwordPrefix)).count();
        this.continuation = new CharTable(continued);
        vocab.forEach((token, id) -> {
            whole.put(token, id);
            if (token.startsWith(continuingSubwordPrefix)) continuation.put(token.substring(continuingSubwordPrefix.length()), id);
        });
    }

    /**
     * Tokenizes {@code word[from, to)} ({@code codePoints} code points long), reporting pieces with offsets
     * into {@code word}. {@code prefixHash} is scratch space of at least {@code to - from + 1} ints.
     */
    void tokenize(char[] word, int from, int to, int codePoints, int[] prefixHash, Sink sink) {
        int n = to - from;
        if (codePoints > maxInputCharsPerWord || n >= POW31.length) {
            sink.piece(unkId, from, to);
            return;
        }
        prefixHash[0] = 0;
        for (int i = 0; i < n; i++) prefixHash[i + 1] = prefixHash[i] * 31 + word[from + i];
        // Pieces are only committed once the whole word is covered.
        int[] pieces = null;
        int count = 0;
        int start = from;
        while (start < to) {
            CharTable table = start == from ? whole : continuation;
            int end = Math.min(to, start + table.maxKeyLength);
            if (end < to && Character.isLowSurrogate(word[end]) && Character.isHighSurrogate(word[end - 1])) end--;
            int id = -1;
            while (end > start) {
                int len = end - start;
                int hash = prefixHash[end - from] - prefixHash[start - from] * POW31[len];
                id = table.get(hash, word, start, len);
                if (id >= 0) break;
                end--;
                if (end > start && Character.isLowSurrogate(word[end]) && Character.isHighSurrogate(word[end - 1])) end--;
            }
            if (id < 0) {
                sink.piece(unkId, from, to);
                return;
            }
            if (start == from && end == to) {
                sink.piece(id, from, to);
                return;
            }
            if (pieces == null) pieces = new int[24];
            if (count * 3 + 3 > pieces.length) pieces = Arrays.copyOf(pieces, pieces.length * 2);
            pieces[count * 3] = id;
            pieces[count * 3 + 1] = start;
            pieces[count * 3 + 2] = end;
            count++;
            start = end;
        }
        for (int i = 0; i < count; i++) sink.piece(pieces[i * 3], pieces[i * 3 + 1], pieces[i * 3 + 2]);
    }

    /**
     * Open-addressing map from char sequences to ids, keyed by {@link String#hashCode}. A slot packs the
     * hash with the offset of the entry's record in one char pool (length, id, then the key's chars), and a
     * bit filter answers most misses, so a miss usually reads one cached word and a hit two places.
     */
    private static final class CharTable {
        private static final int HEADER = 3;   // length, id high half, id low half
        private final long[] slots;            // (hash << 32) | (record offset + 1); 0 = empty
        private final long[] filter;           // one bit per (spread hash mod 16 * capacity)
        private final int mask;
        private char[] pool = new char[1024];
        private int poolSize;
        int maxKeyLength;

        CharTable(int expected) {
            int capacity = Integer.highestOneBit(Math.max(4, expected * 2 + 1)) << 1;
            slots = new long[capacity];
            filter = new long[capacity / 4];
            mask = capacity - 1;
        }

        private static int spread(int h) {
            h ^= h >>> 16;
            h *= 0x85EBCA6B;
            return h ^ (h >>> 13);
        }

        void put(String key, int id) {
            char[] chars = key.toCharArray();
            if (chars.length > Character.MAX_VALUE) throw new TokenizerException("vocabulary token longer than 65535 chars");
            int h = key.hashCode();
            int at = find(h, chars, 0, chars.length);
            if (at >= 0) {
                pool[at + 1] = (char) (id >>> 16);
                pool[at + 2] = (char) id;
                return;
            }
            int need = HEADER + chars.length;
            if (poolSize + need > pool.length) pool = Arrays.copyOf(pool, Math.max(pool.length * 2, poolSize + need));
            at = poolSize;
            pool[at] = (char) chars.length;
            pool[at + 1] = (char) (id >>> 16);
            pool[at + 2] = (char) id;
            System.arraycopy(chars, 0, pool, at + HEADER, chars.length);
            poolSize += need;
            maxKeyLength = Math.max(maxKeyLength, chars.length);
            int slot = spread(h) & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = ((long) h << 32) | (at + 1);
            int bit = spread(h) & (filter.length * 64 - 1);
            filter[bit >>> 6] |= 1L << bit;
        }

        /** The id of {@code text[offset, offset + length)} whose hash is {@code h}, or -1. */
        int get(int h, char[] text, int offset, int length) {
            int at = find(h, text, offset, length);
            return at < 0 ? -1 : (pool[at + 1] << 16) | pool[at + 2];
        }

        /** Offset of the key's record in the pool, or -1. */
        private int find(int h, char[] text, int offset, int length) {
            int spread = spread(h);
            int bit = spread & (filter.length * 64 - 1);
            if ((filter[bit >>> 6] & (1L << bit)) == 0) return -1;
            for (int slot = spread & mask; ; slot = (slot + 1) & mask) {
                long s = slots[slot];
                if (s == 0) return -1;
                if ((int) (s >>> 32) == h) {
                    int at = (int) s - 1;
                    if (pool[at] == length
                            && Arrays.equals(pool, at + HEADER, at + HEADER + length, text, offset, offset + length)) {
                        return at;
                    }
                }
            }
        }
    }
}
