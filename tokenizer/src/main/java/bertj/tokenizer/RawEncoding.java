package bertj.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An encoding under construction, with the operations of tokenizers' {@code Encoding}
 * ({@code tokenizer/encoding.rs}): right truncation into overflowing windows, merging (which pairs every
 * overflowing window with the other parts) and padding. Offsets are UTF-16 indices into the sequence's
 * original string; -1 stands for "no word" / "no sequence".
 */
final class RawEncoding {
    int[] ids, typeIds, words, starts, ends, specialMask, attention, sequenceIds;
    List<RawEncoding> overflowing = new ArrayList<>();
    /** Whether the first / second original string may contain surrogates (set on the final encoding). */
    boolean firstSurrogates = true, secondSurrogates = true;

    RawEncoding(int[] ids, int[] typeIds, int[] words, int[] starts, int[] ends, int[] specialMask, int[] attention, int[] sequenceIds) {
        this.ids = ids;
        this.typeIds = typeIds;
        this.words = words;
        this.starts = starts;
        this.ends = ends;
        this.specialMask = specialMask;
        this.attention = attention;
        this.sequenceIds = sequenceIds;
    }

    /** The tokens of one input sequence, straight from the model: ids, word indices and UTF-16 offsets. */
    record Tokens(int[] ids, int[] words, int[] starts, int[] ends, boolean surrogates) {
        int length() {
            return ids.length;
        }
    }

    static RawEncoding empty() {
        int[] none = new int[0];
        return new RawEncoding(none, none, none, none, none, none, none, none);
    }

    /** Tokens of one input sequence: not special, attended. */
    static RawEncoding ofSequence(Tokens t, int typeId) {
        int[] ids = t.ids(), words = t.words(), starts = t.starts(), ends = t.ends();
        int n = ids.length;
        int[] types = new int[n];
        Arrays.fill(types, typeId);
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        return new RawEncoding(ids, types, words, starts, ends, new int[n], ones, new int[n]);
    }

    /** Special tokens added by the post-processor: no word, offsets (0, 0), special, attended, no sequence. */
    static RawEncoding ofSpecial(int[] ids, int typeId) {
        int n = ids.length;
        int[] types = new int[n], none = new int[n], ones = new int[n];
        Arrays.fill(types, typeId);
        Arrays.fill(none, -1);
        Arrays.fill(ones, 1);
        return new RawEncoding(ids.clone(), types, none.clone(), new int[n], new int[n], ones.clone(), ones, none);
    }

    int length() {
        return ids.length;
    }

    private RawEncoding slice(int from, int to) {
        return new RawEncoding(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(typeIds, from, to),
                Arrays.copyOfRange(words, from, to), Arrays.copyOfRange(starts, from, to), Arrays.copyOfRange(ends, from, to),
                Arrays.copyOfRange(specialMask, from, to), Arrays.copyOfRange(attention, from, to),
                Arrays.copyOfRange(sequenceIds, from, to));
    }

    RawEncoding deepCopy() {
        RawEncoding copy = slice(0, length());
        for (RawEncoding o : overflowing) copy.overflowing.add(o.deepCopy());
        return copy;
    }

    void setSequenceId(int id) {
        Arrays.fill(sequenceIds, id);
        for (RawEncoding o : overflowing) o.setSequenceId(id);
    }

    /**
     * Keeps the first {@code maxLength} tokens; when {@code keepOverflow}, the rest becomes windows of
     * {@code maxLength} tokens that each start {@code maxLength - stride} after the previous one.
     */
    void truncate(int maxLength, int stride, boolean keepOverflow) {
        int n = length();
        if (maxLength >= n) return;
        if (maxLength == 0) {
            RawEncoding all = slice(0, n);
            all.overflowing = overflowing;
            RawEncoding none = empty();
            copyFrom(none);
            overflowing = new ArrayList<>();
            if (keepOverflow) overflowing.add(all);
            return;
        }
        if (keepOverflow && stride >= maxLength) {
            throw new TokenizerException("truncation stride " + stride + " must be smaller than the room left for the sequence ("
                    + maxLength + " tokens, after special tokens and the other sequence)");
        }
        List<RawEncoding> windows = new ArrayList<>();
        if (keepOverflow) {
            int step = maxLength - stride;
            for (int start = step; ; start += step) {
                int stop = Math.min(start + maxLength, n);
                windows.add(slice(start, stop));
                if (stop == n) break;
            }
        }
        copyFrom(slice(0, maxLength));
        overflowing = windows;
    }

    private void copyFrom(RawEncoding o) {
        ids = o.ids;
        typeIds = o.typeIds;
        words = o.words;
        starts = o.starts;
        ends = o.ends;
        specialMask = o.specialMask;
        attention = o.attention;
        sequenceIds = o.sequenceIds;
    }

    static RawEncoding merge(List<RawEncoding> parts) {
        boolean windows = false;
        for (RawEncoding part : parts) windows |= !part.overflowing.isEmpty();
        if (!windows) return concatenate(parts);
        RawEncoding merged = empty();
        for (RawEncoding part : parts) merged.mergeWith(part);
        return merged;
    }

    /** {@link #merge} when no part has overflowing windows: one copy of each field. */
    private static RawEncoding concatenate(List<RawEncoding> parts) {
        int n = 0;
        for (RawEncoding part : parts) n += part.length();
        RawEncoding r = new RawEncoding(new int[n], new int[n], new int[n], new int[n], new int[n], new int[n], new int[n], new int[n]);
        int at = 0;
        for (RawEncoding part : parts) {
            int k = part.length();
            System.arraycopy(part.ids, 0, r.ids, at, k);
            System.arraycopy(part.typeIds, 0, r.typeIds, at, k);
            System.arraycopy(part.words, 0, r.words, at, k);
            System.arraycopy(part.starts, 0, r.starts, at, k);
            System.arraycopy(part.ends, 0, r.ends, at, k);
            System.arraycopy(part.specialMask, 0, r.specialMask, at, k);
            System.arraycopy(part.attention, 0, r.attention, at, k);
            System.arraycopy(part.sequenceIds, 0, r.sequenceIds, at, k);
            at += k;
        }
        return r;
    }

    /** Appends {@code pair}; every overflowing window of either side is combined with the other side. */
    void mergeWith(RawEncoding pair) {
        List<RawEncoding> combined = new ArrayList<>();
        for (RawEncoding selfWindow : overflowing) {
            RawEncoding withPair = selfWindow.deepCopy();
            withPair.mergeWith(pair.deepCopy());
            combined.add(withPair);
            for (RawEncoding pairWindow : pair.overflowing) {
                RawEncoding both = selfWindow.deepCopy();
                both.mergeWith(pairWindow.deepCopy());
                combined.add(both);
            }
        }
        for (RawEncoding pairWindow : pair.overflowing) {
            RawEncoding withSelf = slice(0, length());
            withSelf.mergeWith(pairWindow.deepCopy());
            combined.add(withSelf);
        }
        ids = concat(ids, pair.ids);
        typeIds = concat(typeIds, pair.typeIds);
        words = concat(words, pair.words);
        starts = concat(starts, pair.starts);
        ends = concat(ends, pair.ends);
        specialMask = concat(specialMask, pair.specialMask);
        attention = concat(attention, pair.attention);
        sequenceIds = concat(sequenceIds, pair.sequenceIds);
        overflowing = combined;
    }

    private static int[] concat(int[] a, int[] b) {
        if (b.length == 0) return a;
        if (a.length == 0) return b.clone();
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Pads this encoding and its windows to {@code target} tokens; longer ones are left as they are. */
    void pad(int target, int padId, int padTypeId, boolean left) {
        for (RawEncoding o : overflowing) o.pad(target, padId, padTypeId, left);
        int n = length();
        if (n >= target) return;
        int extra = target - n;
        ids = padded(ids, extra, padId, left);
        typeIds = padded(typeIds, extra, padTypeId, left);
        words = padded(words, extra, -1, left);
        starts = padded(starts, extra, 0, left);
        ends = padded(ends, extra, 0, left);
        specialMask = padded(specialMask, extra, 1, left);
        attention = padded(attention, extra, 0, left);
        sequenceIds = padded(sequenceIds, extra, -1, left);
    }

    private static int[] padded(int[] a, int extra, int value, boolean left) {
        int[] r = new int[a.length + extra];
        if (left) {
            Arrays.fill(r, 0, extra, value);
            System.arraycopy(a, 0, r, extra, a.length);
        } else {
            System.arraycopy(a, 0, r, 0, a.length);
            Arrays.fill(r, a.length, r.length, value);
        }
        return r;
    }
}
