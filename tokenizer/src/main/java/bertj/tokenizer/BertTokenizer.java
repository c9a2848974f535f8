package bertj.tokenizer;

import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A BERT WordPiece tokenizer with the behaviour of Hugging Face {@code tokenizers} 0.23
 * ({@code BertNormalizer}, {@code BertPreTokenizer}, {@code WordPiece}, {@code TemplateProcessing},
 * the {@code WordPiece} decoder, truncation, padding and overflowing windows), checked against
 * tokenizers 0.23.2 on every code point and on the fixture cases. Any Java string is accepted: a lone
 * surrogate counts as U+FFFD, as it does when such a string reaches the reference.
 *
 * <p>Known differences from the reference: overflowing windows run to the end of the text (0.23's stop
 * where its truncation early exit stopped tokenizing, see {@link EncodeOptions}); combining marks are not
 * canonically reordered across characters before accent stripping (this only matters for marks that
 * Unicode 8.0 does not class as Mn, in unusual order); the token string of an {@code lstrip}/{@code rstrip}
 * added token is its content, not the matched text with its whitespace (ids and offsets are the same);
 * {@code Left} truncation and non-BERT models, normalizers and pre-tokenizers are refused when loading.
 *
 * <p>Immutable once loaded and safe to use from many threads at once.
 */
public final class BertTokenizer {
    /**
     * A token matched in the raw text before normalization (tokenizer.json {@code added_tokens}):
     * {@code singleWord} only matches between non-word characters, {@code lstrip} / {@code rstrip} take the
     * whitespace before / after the match into its span.
     */
    record AddedToken(String content, int id, boolean special, boolean normalized, boolean singleWord, boolean lstrip, boolean rstrip) {
        AddedToken(String content, int id, boolean special, boolean normalized) {
            this(content, id, special, normalized, false, false, false);
        }
    }

    /** Tokenizer parts as read from the files; see {@link TokenizerFiles}. */
    record Parts(Map<String, Integer> vocab, String unkToken, String continuingSubwordPrefix, int maxInputCharsPerWord,
                 BertNormalizer normalizer, List<AddedToken> addedTokens, TemplateProcessor postProcessor,
                 String decoderPrefix, boolean decoderCleanup, boolean hasDecoder, EncodeOptions defaults,
                 int modelMaxLength, String padToken, int padId, int padTypeId, boolean padLeft, String source) {}

    private final WordPiece model;
    private final BertNormalizer normalizer;
    private final Map<String, Integer> tokenIds;
    private final String[] idToToken;
    private final Set<String> specialTokens;
    private final TokenMatcher rawAddedTokens;
    private final TokenMatcher normalizedAddedTokens;
    private final TemplateProcessor postProcessor;
    private final String decoderPrefix;
    private final boolean decoderCleanup;
    private final boolean hasDecoder;
    private final EncodeOptions defaults;
    private final int modelMaxLength;
    private final int padId, padTypeId;
    private final boolean padLeft;
    private final int clsId, sepId, unkId;
    private final int vocabSize;
    /** Whether an added token contains a surrogate (then offsets need the code point scan). */
    private final boolean addedTokenSurrogates;

    BertTokenizer(Parts p) {
        Integer unk = p.vocab().get(p.unkToken());
        if (unk == null) {
            throw new TokenizerException(p.source() + ": unknown token '" + p.unkToken() + "' is not in the WordPiece vocabulary");
        }
        this.model = new WordPiece(p.vocab(), unk, p.continuingSubwordPrefix(), p.maxInputCharsPerWord());
        this.normalizer = p.normalizer();
        Map<String, Integer> ids = HashMap.newHashMap(p.vocab().size() + p.addedTokens().size());
        ids.putAll(p.vocab());
        int maxId = -1;
        for (int id : p.vocab().values()) maxId = Math.max(maxId, id);
        for (AddedToken t : p.addedTokens()) {
            ids.put(t.content(), t.id());
            maxId = Math.max(maxId, t.id());
        }
        this.tokenIds = ids; // never changed after this; Map.copyOf of 30k entries cost 10-15% of a load
        this.vocabSize = ids.size();
        String[] tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : p.vocab().entrySet()) tokens[e.getValue()] = e.getKey();
        this.idToToken = tokens;
        java.util.HashSet<String> special = new java.util.HashSet<>();
        for (AddedToken t : p.addedTokens()) {
            idToToken[t.id()] = t.content();
            if (t.special()) special.add(t.content());
        }
        this.specialTokens = Set.copyOf(special);
        this.addedTokenSurrogates = p.addedTokens().stream().anyMatch(t -> t.content().chars().anyMatch(c -> Character.isSurrogate((char) c)));
        this.rawAddedTokens = new TokenMatcher(p.addedTokens().stream().filter(t -> !t.normalized()).toList());
        this.normalizedAddedTokens = new TokenMatcher(p.addedTokens().stream().filter(AddedToken::normalized)
                .map(t -> new AddedToken(normalizer.normalize(t.content()), t.id(), t.special(), true, t.singleWord(), t.lstrip(), t.rstrip()))
                .filter(t -> !t.content().isEmpty()).toList());
        this.postProcessor = p.postProcessor();
        this.decoderPrefix = p.decoderPrefix();
        this.decoderCleanup = p.decoderCleanup();
        this.hasDecoder = p.hasDecoder();
        this.defaults = p.defaults();
        this.modelMaxLength = p.modelMaxLength();
        this.padId = p.padId();
        this.padTypeId = p.padTypeId();
        this.padLeft = p.padLeft();
        List<Integer> around = postProcessor.singleSpecialIds();
        this.clsId = around.isEmpty() ? tokenToId("[CLS]") : around.getFirst();
        this.sepId = around.isEmpty() ? tokenToId("[SEP]") : around.getLast();
        this.unkId = unk;
    }

    // ---------------------------------------------------------------- loading

    /**
     * Loads {@code tokenizer.json} from {@code dir} when present (with {@code tokenizer_config.json} for
     * {@code model_max_length}), else {@code vocab.txt} with the optional {@code tokenizer_config.json}.
     */
    public static BertTokenizer fromDirectory(Path dir) {
        return new BertTokenizer(TokenizerFiles.fromDirectory(dir));
    }

    /** A BERT tokenizer from {@code vocab.txt} and an optional {@code tokenizer_config.json} (may be null). */
    public static BertTokenizer fromVocab(Path vocabTxt, Path tokenizerConfigJsonOrNull) {
        return new BertTokenizer(TokenizerFiles.fromVocab(vocabTxt, tokenizerConfigJsonOrNull));
    }

    /** A tokenizer from a Hugging Face {@code tokenizer.json} (WordPiece model, BERT normalizer and pre-tokenizer). */
    public static BertTokenizer fromTokenizerJson(Path tokenizerJson) {
        return new BertTokenizer(TokenizerFiles.fromTokenizerJson(tokenizerJson, null));
    }

    // ---------------------------------------------------------------- vocabulary

    /** Number of distinct tokens (model vocabulary plus added tokens). */
    public int vocabSize() {
        return vocabSize;
    }

    /** {@code model_max_length} of tokenizer_config.json, else tokenizer.json's truncation length, else 512. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    public int clsTokenId() {
        return clsId;
    }

    public int sepTokenId() {
        return sepId;
    }

    public int padTokenId() {
        return padId;
    }

    public int unkTokenId() {
        return unkId;
    }

    /** The id of a token (added tokens first, then the vocabulary), or -1 when there is none. */
    public int tokenToId(String token) {
        Integer id = tokenIds.get(token);
        return id == null ? -1 : id;
    }

    /** The token of each id; null for ids that have none. */
    public List<String> convertIdsToTokens(int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) out.add(idToTokenOrNull(id));
        return out;
    }

    private String idToTokenOrNull(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /**
     * The options this tokenizer was saved with: tokenizer.json's {@code truncation} and {@code padding}
     * sections when present, else {@link EncodeOptions#DEFAULT}.
     */
    public EncodeOptions defaultOptions() {
        return defaults;
    }

    // ---------------------------------------------------------------- encoding

    /** Encodes one text with {@link #defaultOptions()}. */
    public Encoding encode(String text) {
        return encode(text, null, defaults);
    }

    /**
     * Encodes a text, or a text pair when {@code pairOrNull} is not null.
     *
     * @throws TokenizerException when the truncation request cannot be met (ONLY_SECOND without a pair,
     *                            a sequence too short to remove enough tokens, a stride not below the room left)
     */
    public Encoding encode(String text, String pairOrNull, EncodeOptions options) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(options, "options");
        return finish(encodeRaw(text, pairOrNull, options), text, pairOrNull);
    }

    /**
     * Encodes texts (with their pairs when {@code pairsOrNull} is given, same size) with the same options;
     * {@code LONGEST} padding pads to the longest encoding of the batch.
     */
    public List<Encoding> encodeBatch(List<String> texts, List<String> pairsOrNull, EncodeOptions options) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(options, "options");
        if (pairsOrNull != null && pairsOrNull.size() != texts.size()) {
            throw new IllegalArgumentException("texts has " + texts.size() + " entries but pairs has " + pairsOrNull.size());
        }
        List<RawEncoding> raws = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = Objects.requireNonNull(texts.get(i), "texts[" + i + "]");
            raws.add(encodeRaw(text, pairsOrNull == null ? null : pairsOrNull.get(i), options));
        }
        if (options.padding() == Padding.LONGEST && !raws.isEmpty()) {
            int longest = 0;
            for (RawEncoding r : raws) longest = Math.max(longest, r.length());
            int target = roundUp(longest, options.padToMultipleOf());
            long tokens = 0, padded = 0;
            for (RawEncoding r : raws) {
                tokens += r.length();
                padded += Math.max(r.length(), target);
                for (RawEncoding w : r.overflowing) {
                    tokens += w.length();
                    padded += Math.max(w.length(), target);
                }
            }
            if (padded > growthLimit(tokens)) {
                throw new IllegalArgumentException("padding a batch of " + raws.size() + " encodings (" + tokens + " tokens) to its longest, "
                        + target + " tokens, makes " + padded + " tokens: over the limit of " + growthLimit(tokens)
                        + " (" + MAX_GROWTH + " times the batch's tokens, or " + GROWTH_FLOOR + "); split the batch");
            }
            for (RawEncoding r : raws) r.pad(target, padId, padTypeId, padLeft);
        }
        List<Encoding> out = new ArrayList<>(raws.size());
        for (int i = 0; i < raws.size(); i++) out.add(finish(raws.get(i), texts.get(i), pairsOrNull == null ? null : pairsOrNull.get(i)));
        return out;
    }

    /**
     * The length an encoding of {@code length} tokens is padded to. A {@code MAX_LENGTH} target past
     * {@link EncodeOptions#MAX_PAD_LENGTH} that would add tokens is refused here, before anything is allocated for
     * it, naming where it came from.
     */
    private int padTarget(int length, EncodeOptions options) {
        if (options.padding() != Padding.MAX_LENGTH) return roundUp(length, options.padToMultipleOf());
        int target = options.padLength() != null ? options.padLength() : options.maxLength() != null ? options.maxLength() : modelMaxLength;
        if (target > EncodeOptions.MAX_PAD_LENGTH && target > length) {
            String from = options.padLength() != null ? "padLength " : options.maxLength() != null ? "maxLength " : "model_max_length ";
            throw new IllegalArgumentException("padding to " + from + target + " tokens: over the limit of "
                    + EncodeOptions.MAX_PAD_LENGTH + " tokens an encoding may be padded to");
        }
        return roundUp(Math.max(target, 0), options.padToMultipleOf());
    }

    /** {@code n} rounded up to a multiple of {@code multiple} (0: {@code n}). */
    private static int roundUp(int n, int multiple) {
        if (multiple == 0 || n % multiple == 0) return n;
        long up = (long) n + multiple - n % multiple;
        if (up > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(n + " tokens rounded up to a multiple of " + multiple
                + " is more than an array can hold");
        return (int) up;
    }

    /** tokenizers' encode + post_process: tokenization, truncation, special tokens, padding of this one encoding. */
    private RawEncoding encodeRaw(String text, String pair, EncodeOptions options) {
        boolean truncating = options.truncation() != Truncation.NONE;
        int maxLength = options.maxLength() != null ? options.maxLength() : modelMaxLength;
        // tokenizers 0.23 stops tokenizing a sequence that the strategy may shorten at the word that
        // reaches max_length tokens (its "early exit"); a sequence it must keep whole is tokenized fully.
        int firstLimit = truncating && options.truncation() != Truncation.ONLY_SECOND ? maxLength : Integer.MAX_VALUE;
        int secondLimit = truncating && options.truncation() != Truncation.ONLY_FIRST ? maxLength : Integer.MAX_VALUE;
        boolean windows = options.returnOverflowing();
        // Windows need the whole text; without them, tokenizing can stop where the reference stops.
        RawEncoding.Tokens first = tokenizeSequence(text, windows ? Integer.MAX_VALUE : firstLimit);
        RawEncoding.Tokens second = pair == null ? null : tokenizeSequence(pair, windows ? Integer.MAX_VALUE : secondLimit);
        int n1 = earlyExitLength(first, firstLimit), n2 = second == null ? -1 : earlyExitLength(second, secondLimit);
        int[] keep = {n1, n2};
        boolean truncates = false;
        if (truncating) {
            int added = options.addSpecialTokens() ? postProcessor.addedTokens(second != null) : 0;
            // With no room even for the special tokens the reference leaves the sequences untruncated.
            if (maxLength >= added) {
                keep = truncatedLengths(n1, n2, maxLength - added, options.truncation());
                truncates = true;
            }
        }
        if (!windows) {
            // Without windows only the kept lengths matter: lay the result out directly.
            if (truncates) checkStride(options.stride(), keep[0], n1, keep[1], n2);
            int content = postProcessor.addedTokens(second != null) * (options.addSpecialTokens() ? 1 : 0)
                    + keep[0] + Math.max(keep[1], 0);
            int padTo = options.padding() == Padding.NONE ? 0 : padTarget(content, options);
            RawEncoding laid = postProcessor.layout(first, keep[0], second, Math.max(keep[1], 0), options.addSpecialTokens(),
                    padTo, padId, padTypeId, padLeft);
            laid.firstSurrogates = first.surrogates();
            laid.secondSurrogates = second != null && second.surrogates();
            return laid;
        }
        // The main encoding keeps exactly what the reference keeps; the windows then run to the end of
        // the text (the reference's own windows stop where its early exit stopped tokenizing).
        checkWindows(first.length(), truncates ? keep[0] : -1, second == null ? -1 : second.length(), truncates ? keep[1] : -1, options);
        RawEncoding a = RawEncoding.ofSequence(first, 0);
        RawEncoding b = second == null ? null : RawEncoding.ofSequence(second, 1);
        a.truncate(keep[0], options.stride(), truncates);
        if (b != null) b.truncate(keep[1], options.stride(), truncates);
        RawEncoding merged = postProcessor.process(a, b, options.addSpecialTokens());
        if (options.padding() != Padding.NONE) merged.pad(padTarget(merged.length(), options), padId, padTypeId, padLeft);
        return merged;
    }

    /**
     * Overflowing windows and padding may make at most this many times the tokens of their input (or
     * {@link #GROWTH_FLOOR} tokens, whichever is more). A request over it (a stride that moves each window by a
     * token or two, a pair whose windows are combined with each other's, a batch padded to one far longer text)
     * is refused with an {@link IllegalArgumentException} before its tokens are allocated. Question answering's
     * usual windows (384 tokens, stride 128) repeat each context token about 1.5 times.
     */
    public static final int MAX_GROWTH = 16;
    /** See {@link #MAX_GROWTH}: 2^20 tokens, 32 MB of arrays. */
    public static final int GROWTH_FLOOR = 1 << 20;

    private static long growthLimit(long inputTokens) {
        return Math.max(GROWTH_FLOOR, MAX_GROWTH * inputTokens);
    }

    /**
     * Refuses overflowing windows that would hold more tokens than {@link #MAX_GROWTH} allows, before they are made:
     * sequences of {@code n1} / {@code n2} tokens ({@code n2} = -1 without a pair) cut to {@code k1} / {@code k2}
     * (-1: not truncated), every window of one combined with every window of the other, each padded as asked.
     */
    private void checkWindows(int n1, int k1, int n2, int k2, EncodeOptions options) {
        int added = options.addSpecialTokens() ? postProcessor.addedTokens(n2 >= 0) : 0;
        long windows1 = windowCount(n1, k1, options.stride()), windows2 = n2 < 0 ? 0 : windowCount(n2, k2, options.stride());
        long widest = windowWidth(n1, k1) + (n2 < 0 ? 0 : windowWidth(n2, k2)) + added;
        if (options.padding() != Padding.NONE) widest = Math.max(widest, padTarget((int) Math.min(widest, Integer.MAX_VALUE - 8), options));
        long input = (long) n1 + Math.max(n2, 0) + added;
        // (windows1 + 1) * (windows2 + 1) encodings of at most `widest` tokens, saturating rather than overflowing
        double tokens = (double) (windows1 + 1) * (windows2 + 1) * widest;
        if (tokens > growthLimit(input)) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "overflowing windows of maxLength %s with stride %d"
                    + " would make up to %.0f tokens from an input of %d: over the limit of %d (%d times the input, or %d);"
                    + " use a smaller stride or a larger maxLength", options.maxLength() == null ? "model_max_length " + modelMaxLength
                    : options.maxLength(), options.stride(), tokens, input, growthLimit(input), MAX_GROWTH, GROWTH_FLOOR));
        }
    }

    /** How many overflowing windows {@link RawEncoding#truncate} cuts from n tokens kept to k (k = -1: not truncated). */
    private static long windowCount(int n, int k, int stride) {
        if (k < 0 || k >= n) return 0;
        if (k == 0) return 1;
        int step = k - stride;
        return step <= 0 ? 0 : ((long) n - k + step - 1) / step; // a stride too large is refused by truncate
    }

    private static int windowWidth(int n, int k) {
        return k <= 0 || k >= n ? n : k;
    }

    /**
     * How many tokens tokenizers 0.23 produces for a sequence when it stops after the word (pre-token)
     * that reaches {@code limit} tokens: the whole sequence when it is shorter.
     */
    static int earlyExitLength(RawEncoding.Tokens t, int limit) {
        int n = t.length();
        if (limit >= n) return n;
        int end = Math.max(limit, 1);   // the first word is always tokenized
        int[] words = t.words();
        while (end < n && words[end] == words[end - 1]) end++;
        return end;
    }

    /** The reference refuses a stride that does not leave each truncated window room to advance. */
    private static void checkStride(int stride, int k1, int n1, int k2, int n2) {
        for (int[] kn : new int[][] {{k1, n1}, {k2, n2}}) {
            if (kn[0] > 0 && kn[0] < kn[1] && stride >= kn[0]) {
                throw new TokenizerException("truncation stride " + stride + " must be smaller than the room left for the sequence ("
                        + kn[0] + " tokens, after special tokens and the other sequence)");
            }
        }
    }

    /**
     * tokenizers' {@code truncate_encodings} (direction right) on lengths: how many tokens of each sequence
     * to keep ({@code n2} = -1 without a pair).
     */
    static int[] truncatedLengths(int n1, int n2, int maxLength, Truncation strategy) {
        boolean pair = n2 >= 0;
        if (maxLength == 0) return new int[] {0, pair ? 0 : -1};
        int total = n1 + Math.max(n2, 0);
        if (total <= maxLength) return new int[] {n1, n2};
        int toRemove = total - maxLength;
        switch (strategy) {
            case NONE -> {
                return new int[] {n1, n2};
            }
            case LONGEST_FIRST -> {
                if (!pair) return new int[] {maxLength, -1};
                // The shorter keeps what it has if the longer can take the rest; else the budget is
                // halved, the shorter (the first one on a tie) getting the floor.
                int a = n1, b = n2;
                boolean swap = a > b;
                if (swap) { int t = a; a = b; b = t; }
                b = a > maxLength ? a : Math.max(a, maxLength - a);
                if (a + b > maxLength) {
                    a = maxLength / 2;
                    b = a + maxLength % 2;
                }
                return swap ? new int[] {b, a} : new int[] {a, b};
            }
            default -> {
                boolean firstOnly = strategy == Truncation.ONLY_FIRST;
                if (!firstOnly && !pair) throw new TokenizerException("Truncation error: Second sequence not provided");
                int target = firstOnly ? n1 : n2;
                if (target <= toRemove) {
                    throw new TokenizerException("Truncation error: Sequence to truncate too short to respect the provided max_length");
                }
                return firstOnly ? new int[] {n1 - toRemove, n2} : new int[] {n1, n2 - toRemove};
            }
        }
    }

    /** Normalizes, pre-tokenizes and WordPiece-tokenizes one sequence; stops after the word reaching {@code limit} tokens. */
    private RawEncoding.Tokens tokenizeSequence(String text, int limit) {
        SequenceTokenizer t = SCRATCH.get();
        t.reset(this, text, limit);
        int pos = 0;
        int n = text.length();
        int[] match = new int[3];
        while (pos < n && !t.full()) {
            boolean found = rawAddedTokens.find(text, pos, n, match);
            int segmentEnd = found ? match[0] : n;
            if (segmentEnd > pos) t.normalizedSegment(pos, segmentEnd);
            if (!found || t.full()) break;
            t.addedToken(match[2], match[0], match[1]);
            pos = match[1];
        }
        RawEncoding.Tokens r = new RawEncoding.Tokens(t.ids.toArray(), t.words.toArray(), t.starts.toArray(), t.ends.toArray(),
                t.surrogates || (addedTokenSurrogates && t.ids.size > 0));
        t.text = null;
        t.owner = null;
        return r;
    }

    /** Per-thread scratch space, so that encoding allocates little more than its results. */
    private static final ThreadLocal<SequenceTokenizer> SCRATCH = ThreadLocal.withInitial(SequenceTokenizer::new);

    /** State of one {@link #tokenizeSequence} call: normalized text, scratch space and the output. */
    private static final class SequenceTokenizer implements WordPiece.Sink {
        private static final int KEEP = 1 << 16;   // buffers grown beyond this are dropped after use
        BertTokenizer owner;
        String text;
        int limit;
        BertNormalizer.Text normalized = new BertNormalizer.Text();
        IntList ids = new IntList(256), words = new IntList(256), starts = new IntList(256), ends = new IntList(256);
        final int[] prefixHash = new int[1025];
        int word;
        boolean surrogates;

        void reset(BertTokenizer owner, String text, int limit) {
            surrogates = false;
            this.owner = owner;
            this.text = text;
            this.limit = limit;
            word = 0;
            if (normalized.chars.length > KEEP) normalized = new BertNormalizer.Text();
            if (ids.a.length > KEEP) {
                ids = new IntList(256);
                words = new IntList(256);
                starts = new IntList(256);
                ends = new IntList(256);
            }
            ids.size = words.size = starts.size = ends.size = 0;
        }

        boolean full() {
            return ids.size >= limit;
        }

        void addedToken(int id, int start, int end) {
            ids.add(id);
            words.add(word++);
            starts.add(start);
            ends.add(end);
        }

        /** Normalizes {@code text[from, to)} and tokenizes its words (and any normalized added tokens). */
        void normalizedSegment(int from, int to) {
            normalized.clear();
            owner.normalizer.normalize(text, from, to, normalized);
            surrogates |= normalized.surrogates;
            int pos = 0;
            int n = normalized.length;
            if (owner.normalizedAddedTokens.isEmpty()) {
                words(0, n);
                return;
            }
            java.nio.CharBuffer chars = java.nio.CharBuffer.wrap(normalized.chars, 0, n);
            int[] match = new int[3];
            while (pos < n && !full()) {
                boolean found = owner.normalizedAddedTokens.find(chars, pos, n, match);
                int segmentEnd = found ? match[0] : n;
                if (segmentEnd > pos) words(pos, segmentEnd);
                if (!found || full()) return;
                addedToken(match[2], normalized.start[match[0]], normalized.end[match[1] - 1]);
                pos = match[1];
            }
        }

        /** BertPreTokenizer: split on whitespace, isolate each punctuation character; WordPiece per word. */
        private void words(int from, int to) {
            char[] c = normalized.chars;
            UnicodeTables tables = UnicodeTables.get();
            int i = from;
            while (i < to) {
                int kind = classify(c, i, to, tables);
                int len = kind >>> 8;
                kind &= 0xFF;
                if (kind == SPACE) {
                    i += len;
                    continue;
                }
                int j = i + len, codePoints = 1;
                if (kind == WORD) {
                    while (j < to) {
                        int k = classify(c, j, to, tables);
                        if ((k & 0xFF) != WORD) break;
                        j += k >>> 8;
                        codePoints++;
                    }
                }
                owner.model.tokenize(c, i, j, codePoints, prefixHash, this);
                word++;
                if (full()) return;
                i = j;
            }
        }

        @Override
        public void piece(int id, int start, int end) {
            ids.add(id);
            words.add(word);
            starts.add(normalized.start[start]);
            ends.add(normalized.end[end - 1]);
        }
    }

    private static final int WORD = 0, SPACE = 1, PUNCT = 2;
    private static final byte[] ASCII_KIND = new byte[128];

    static {
        UnicodeTables tables = UnicodeTables.get();
        for (int c = 0; c < 128; c++) {
            int f = tables.flags(c);
            ASCII_KIND[c] = (byte) ((f & UnicodeTables.WHITESPACE) != 0 ? SPACE : (f & UnicodeTables.PUNCTUATION) != 0 ? PUNCT : WORD);
        }
    }

    /** Kind of the character at {@code i} in the low byte, its UTF-16 length above. */
    private static int classify(char[] c, int i, int to, UnicodeTables tables) {
        char ch = c[i];
        if (ch < 128) return ASCII_KIND[ch] | (1 << 8);
        int cp = ch, len = 1;
        if (Character.isHighSurrogate(ch) && i + 1 < to && Character.isLowSurrogate(c[i + 1])) {
            cp = Character.toCodePoint(ch, c[i + 1]);
            len = 2;
        }
        int f = tables.flags(cp);
        int kind = (f & UnicodeTables.WHITESPACE) != 0 ? SPACE : (f & UnicodeTables.PUNCTUATION) != 0 ? PUNCT : WORD;
        return kind | (len << 8);
    }

    /** Converts to the public form: token strings and code point offsets (overflowing windows one level deep). */
    private Encoding finish(RawEncoding raw, String text, String pair) {
        CodePoints first = new CodePoints(text, raw.firstSurrogates);
        CodePoints second = pair == null ? null : new CodePoints(pair, raw.secondSurrogates);
        return finish(raw, first, second, true);
    }

    private Encoding finish(RawEncoding raw, CodePoints first, CodePoints second, boolean withOverflowing) {
        int n = raw.length();
        int[] cpStarts = raw.starts, cpEnds = raw.ends;
        if (first.needed || (second != null && second.needed)) {
            cpStarts = new int[n];
            cpEnds = new int[n];
            for (int i = 0; i < n; i++) {
                CodePoints cp = raw.sequenceIds[i] == 1 ? second : first;
                cpStarts[i] = cp.index(raw.starts[i]);
                cpEnds[i] = cp.index(raw.ends[i]);
            }
        }
        List<Encoding> windows = new ArrayList<>();
        if (withOverflowing) for (RawEncoding o : raw.overflowing) windows.add(finish(o, first, second, false));
        return new Encoding(raw.ids, idToToken, raw.typeIds, raw.attention, raw.specialMask, raw.starts, raw.ends,
                cpStarts, cpEnds, raw.words, raw.sequenceIds, windows);
    }

    /** UTF-16 index to code point index for one string (identity unless it has surrogates). */
    private static final class CodePoints {
        final String s;
        final boolean needed;
        int[] map;

        CodePoints(String s, boolean maybe) {
            this.s = s;
            boolean surrogates = false;
            if (!maybe) {
                needed = false;
                return;
            }
            for (int i = 0; i < s.length() && !surrogates; i++) surrogates = Character.isSurrogate(s.charAt(i));
            this.needed = surrogates;
        }

        int index(int utf16) {
            if (!needed) return utf16;
            if (map == null) {
                map = new int[s.length() + 1];
                int cp = 0;
                for (int i = 0; i < s.length(); i++) {
                    map[i] = cp;
                    // The low half of a pair shares the code point of its high half.
                    boolean pairedLow = i > 0 && Character.isLowSurrogate(s.charAt(i)) && Character.isHighSurrogate(s.charAt(i - 1));
                    if (!pairedLow) cp++;
                    else map[i] = cp - 1;
                }
                map[s.length()] = cp;
            }
            return map[Math.min(Math.max(utf16, 0), s.length())];
        }
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Turns ids back into text as tokenizers' WordPiece decoder does: pieces starting with {@code ##} are
     * glued to the previous token (except the first token), others get a space, and per token " ." " ?"
     * " !" " ," lose their space. Unknown ids are dropped; {@code skipSpecialTokens} also drops every
     * special added token ([CLS], [SEP], [PAD], [MASK] and [UNK]).
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String token = idToTokenOrNull(id);
            if (token == null || (skipSpecialTokens && specialTokens.contains(token))) continue;
            tokens.add(token);
        }
        if (!hasDecoder) return String.join(" ", tokens);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (i != 0) token = token.startsWith(decoderPrefix) ? token.substring(decoderPrefix.length()) : " " + token;
            if (decoderCleanup) token = cleanup(token);
            out.append(token);
        }
        return out.toString();
    }

    /** tokenizers' {@code decoders::wordpiece::cleanup}, applied to one token at a time as the reference does. */
    static String cleanup(String s) {
        if (s.indexOf(' ') < 0) return s;
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    // ---------------------------------------------------------------- helpers

    /** Leftmost-longest matching of added tokens. */
    static final class TokenMatcher {
        private final AddedToken[][] byFirstAscii = new AddedToken[128][];
        private final Map<Character, AddedToken[]> byFirstOther = new HashMap<>();
        private final boolean empty;
        private final boolean noOther;   // no token starts with a non-ASCII character

        TokenMatcher(List<AddedToken> tokens) {
            Map<Character, List<AddedToken>> groups = new HashMap<>();
            for (AddedToken t : tokens) {
                if (!t.content().isEmpty()) groups.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
            }
            groups.forEach((first, list) -> {
                AddedToken[] sorted = list.toArray(new AddedToken[0]);
                Arrays.sort(sorted, (a, b) -> Integer.compare(b.content().length(), a.content().length()));
                if (first < 128) byFirstAscii[first] = sorted;
                else byFirstOther.put(first, sorted);
            });
            empty = groups.isEmpty();
            noOther = byFirstOther.isEmpty();
        }

        boolean isEmpty() {
            return empty;
        }

        /**
         * Finds the leftmost (then longest) token in {@code s[from, to)}: match = {start, end, id}, the span
         * widened over whitespace for lstrip / rstrip tokens.
         */
        boolean find(CharSequence s, int from, int to, int[] match) {
            if (empty) return false;
            for (int i = from; i < to; i++) {
                char c = s.charAt(i);
                AddedToken[] candidates = c < 128 ? byFirstAscii[c] : noOther ? null : byFirstOther.get(c);
                if (candidates == null) continue;
                for (AddedToken t : candidates) {
                    String content = t.content();
                    int end = i + content.length();
                    if (end > to || !regionMatches(s, i, content)) continue;
                    if (t.singleWord() && (isWordCharBefore(s, i, from) || isWordCharAt(s, end, to))) continue;
                    int start = i;
                    if (t.lstrip()) while (start > from && UnicodeTables.isRustWhitespace(s.charAt(start - 1))) start--;
                    if (t.rstrip()) while (end < to && UnicodeTables.isRustWhitespace(s.charAt(end))) end++;
                    match[0] = start;
                    match[1] = end;
                    match[2] = t.id();
                    return true;
                }
            }
            return false;
        }

        /** Rust's {@code is_alphanumeric} or '_' (what a single-word token may not touch). */
        private static boolean isWordChar(int cp) {
            if (cp == '_' || Character.isAlphabetic(cp)) return true;
            int type = Character.getType(cp);
            return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
        }

        private static boolean isWordCharBefore(CharSequence s, int i, int from) {
            return i > from && isWordChar(Character.codePointBefore(s, i));
        }

        private static boolean isWordCharAt(CharSequence s, int i, int to) {
            return i < to && isWordChar(Character.codePointAt(s, i));
        }

        private static boolean regionMatches(CharSequence s, int at, String content) {
            for (int k = 0; k < content.length(); k++) if (s.charAt(at + k) != content.charAt(k)) return false;
            return true;
        }
    }

    /** Growable int array. */
    static final class IntList {
        int[] a;
        int size;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            a[size++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
