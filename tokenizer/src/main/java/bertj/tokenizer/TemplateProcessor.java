package bertj.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * tokenizers' {@code TemplateProcessing} post-processor: lays out special tokens and the sequences, e.g.
 * {@code [CLS] $A:0 [SEP]:0} and {@code [CLS] $A:0 [SEP]:0 $B:1 [SEP]:1}, sets type and sequence ids,
 * and (through {@link RawEncoding#merge}) gives every overflowing window its special tokens.
 */
final class TemplateProcessor {
    /** One template item: a special token (by name, with its ids once resolved) or sequence 0 / 1, with its type id. */
    record Piece(String specialToken, int[] ids, int sequence, int typeId) {
        static Piece special(String name, int typeId) {
            return new Piece(name, null, -1, typeId);
        }

        static Piece sequence(int sequence, int typeId) {
            return new Piece(null, null, sequence, typeId);
        }
    }

    private final List<Piece> single;
    private final List<Piece> pair;
    private final int singleAdded, pairAdded;

    TemplateProcessor(List<Piece> single, List<Piece> pair, Map<String, int[]> specialTokenIds) {
        for (List<Piece> template : List.of(single, pair)) {
            for (Piece p : template) {
                if (p.specialToken() != null && !specialTokenIds.containsKey(p.specialToken())) {
                    throw new TokenizerException("post_processor template uses special token '" + p.specialToken()
                            + "' that is not defined in its special_tokens");
                }
            }
        }
        this.single = resolve(single, specialTokenIds);
        this.pair = resolve(pair, specialTokenIds);
        this.singleAdded = count(this.single);
        this.pairAdded = count(this.pair);
    }

    private static List<Piece> resolve(List<Piece> template, Map<String, int[]> ids) {
        return template.stream().map(p -> p.specialToken() == null ? p
                : new Piece(p.specialToken(), ids.get(p.specialToken()).clone(), -1, p.typeId())).toList();
    }

    private static int count(List<Piece> template) {
        int n = 0;
        for (Piece p : template) if (p.ids() != null) n += p.ids().length;
        return n;
    }

    /** BERT's layout: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], B and its [SEP] with type id 1. */
    static TemplateProcessor bert(String cls, int clsId, String sep, int sepId) {
        if (cls.equals(sep) && clsId != sepId) {
            throw new TokenizerException("the [CLS] and [SEP] tokens are both '" + cls + "' but with ids " + clsId + " and " + sepId);
        }
        Map<String, int[]> ids = new HashMap<>(); // one entry when [CLS] and [SEP] are the same token
        ids.put(cls, new int[] {clsId});
        ids.put(sep, new int[] {sepId});
        return new TemplateProcessor(
                List.of(Piece.special(cls, 0), Piece.sequence(0, 0), Piece.special(sep, 0)),
                List.of(Piece.special(cls, 0), Piece.sequence(0, 0), Piece.special(sep, 0), Piece.sequence(1, 1), Piece.special(sep, 1)),
                ids);
    }

    /** Special token ids in the template's order, for callers that need [CLS] / [SEP]. */
    List<Integer> singleSpecialIds() {
        List<Integer> ids = new ArrayList<>();
        for (Piece p : single) if (p.ids() != null) for (int id : p.ids()) ids.add(id);
        return ids;
    }

    /** How many tokens the template adds around one sequence or a pair. */
    int addedTokens(boolean isPair) {
        return isPair ? pairAdded : singleAdded;
    }

    /**
     * The whole post-processing in one pass when there are no overflowing windows: the template with the
     * first {@code n1} / {@code n2} tokens of each sequence, padded to {@code padTo} tokens on the
     * right (or the left). Gives the same result as {@link #process} followed by {@link RawEncoding#pad}.
     */
    RawEncoding layout(RawEncoding.Tokens first, int n1, RawEncoding.Tokens second, int n2, boolean addSpecialTokens,
                       int padTo, int padId, int padTypeId, boolean padLeft) {
        List<Piece> template = second == null ? single : pair;
        int content = 0;
        for (Piece p : template) {
            if (p.specialToken() == null) content += p.sequence() == 0 || second == null ? n1 : n2;
            else if (addSpecialTokens) content += p.ids().length;
        }
        int total = Math.max(content, padTo);
        int[] ids = new int[total], types = new int[total], words = new int[total], starts = new int[total], ends = new int[total];
        int[] special = new int[total], attention = new int[total], sequence = new int[total];
        int at = padLeft ? total - content : 0;
        int padFrom = padLeft ? 0 : content, padEnd = padLeft ? total - content : total;
        java.util.Arrays.fill(ids, padFrom, padEnd, padId);
        java.util.Arrays.fill(types, padFrom, padEnd, padTypeId);
        java.util.Arrays.fill(words, padFrom, padEnd, -1);
        java.util.Arrays.fill(special, padFrom, padEnd, 1);
        java.util.Arrays.fill(sequence, padFrom, padEnd, -1);
        for (Piece p : template) {
            if (p.specialToken() == null) {
                int seq = second == null ? 0 : Math.min(p.sequence(), 1);
                RawEncoding.Tokens t = seq == 0 ? first : second;
                int n = seq == 0 ? n1 : n2;
                System.arraycopy(t.ids(), 0, ids, at, n);
                System.arraycopy(t.words(), 0, words, at, n);
                System.arraycopy(t.starts(), 0, starts, at, n);
                System.arraycopy(t.ends(), 0, ends, at, n);
                java.util.Arrays.fill(types, at, at + n, p.typeId());
                java.util.Arrays.fill(attention, at, at + n, 1);
                java.util.Arrays.fill(sequence, at, at + n, seq);
                at += n;
            } else if (addSpecialTokens) {
                for (int id : p.ids()) {
                    ids[at] = id;
                    types[at] = p.typeId();
                    words[at] = -1;
                    special[at] = 1;
                    attention[at] = 1;
                    sequence[at] = -1;
                    at++;
                }
            }
        }
        return new RawEncoding(ids, types, words, starts, ends, special, attention, sequence);
    }

    RawEncoding process(RawEncoding first, RawEncoding second, boolean addSpecialTokens) {
        RawEncoding[] sequences = second == null ? new RawEncoding[] {first} : new RawEncoding[] {first, second};
        for (int i = 0; i < sequences.length; i++) sequences[i].setSequenceId(i);
        List<RawEncoding> parts = new ArrayList<>();
        for (Piece p : second == null ? single : pair) {
            if (p.specialToken() == null) {
                RawEncoding s = sequences[Math.min(p.sequence(), sequences.length - 1)];
                // As tokenizers: only the top-level type ids follow the template; windows keep 0 / 1.
                java.util.Arrays.fill(s.typeIds, p.typeId());
                // A sequence used twice by a template must not share arrays with itself.
                parts.add(parts.contains(s) ? s.deepCopy() : s);
            } else if (addSpecialTokens) {
                parts.add(RawEncoding.ofSpecial(p.ids(), p.typeId()));
            }
        }
        return RawEncoding.merge(parts);
    }
}
