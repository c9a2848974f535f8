package bertj.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * tokenizers' {@code TemplateProcessing} post-processor: lays out special tokens and the sequences, e.g.
 * {@code [CLS] $A:0 [SEP]:0} and {@code [CLS] $A:0 [SEP]:0 $B:1 [SEP]:1}, sets type and sequence ids,
 * and (through {@link RawEncoding#merge}) gives every overflowing window its special tokens.
 */
final class TemplateProcessor {
    /** One template item: a special token (by name) or sequence 0 / 1, with its type id. */
    record Piece(String specialToken, int sequence, int typeId) {
        static Piece special(String name, int typeId) {
            return new Piece(name, -1, typeId);
        }

        static Piece sequence(int sequence, int typeId) {
            return new Piece(null, sequence, typeId);
        }
    }

    private final List<Piece> single;
    private final List<Piece> pair;
    private final Map<String, int[]> specialTokenIds;

    TemplateProcessor(List<Piece> single, List<Piece> pair, Map<String, int[]> specialTokenIds) {
        for (List<Piece> template : List.of(single, pair)) {
            for (Piece p : template) {
                if (p.specialToken() != null && !specialTokenIds.containsKey(p.specialToken())) {
                    throw new TokenizerException("post_processor template uses special token '" + p.specialToken()
                            + "' that is not defined in its special_tokens");
                }
            }
        }
        this.single = List.copyOf(single);
        this.pair = List.copyOf(pair);
        this.specialTokenIds = Map.copyOf(specialTokenIds);
    }

    /** BERT's layout: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], B and its [SEP] with type id 1. */
    static TemplateProcessor bert(String cls, int clsId, String sep, int sepId) {
        return new TemplateProcessor(
                List.of(Piece.special(cls, 0), Piece.sequence(0, 0), Piece.special(sep, 0)),
                List.of(Piece.special(cls, 0), Piece.sequence(0, 0), Piece.special(sep, 0), Piece.sequence(1, 1), Piece.special(sep, 1)),
                Map.of(cls, new int[] {clsId}, sep, new int[] {sepId}));
    }

    /** Special token ids in the template's order, for callers that need [CLS] / [SEP]. */
    List<Integer> singleSpecialIds() {
        List<Integer> ids = new ArrayList<>();
        for (Piece p : single) if (p.specialToken() != null) for (int id : specialTokenIds.get(p.specialToken())) ids.add(id);
        return ids;
    }

    /** How many tokens the template adds around one sequence or a pair. */
    int addedTokens(boolean isPair) {
        int n = 0;
        for (Piece p : isPair ? pair : single) if (p.specialToken() != null) n += specialTokenIds.get(p.specialToken()).length;
        return n;
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
                parts.add(s.deepCopy());
            } else if (addSpecialTokens) {
                parts.add(RawEncoding.ofSpecial(specialTokenIds.get(p.specialToken()), p.typeId()));
            }
        }
        return RawEncoding.merge(parts);
    }
}
