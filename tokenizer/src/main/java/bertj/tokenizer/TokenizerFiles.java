package bertj.tokenizer;

import bertj.tokenizer.BertTokenizer.AddedToken;
import bertj.tokenizer.BertTokenizer.Parts;
import bertj.tokenizer.EncodeOptions.Padding;
import bertj.tokenizer.EncodeOptions.Truncation;
import bertj.tokenizer.TemplateProcessor.Piece;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads tokenizer.json, vocab.txt and tokenizer_config.json into {@link Parts}. */
final class TokenizerFiles {
    private static final int DEFAULT_MODEL_MAX_LENGTH = 512;
    /** Longest truncation or padding length tokenizer.json may save: the longest an encoding may be padded to. */
    static final int MAX_SAVED_LENGTH = EncodeOptions.MAX_PAD_LENGTH;

    private TokenizerFiles() {}

    static Parts fromDirectory(Path dir) {
        if (!Files.isDirectory(dir)) throw new TokenizerException(dir + ": not a directory");
        Path json = dir.resolve("tokenizer.json");
        Path config = dir.resolve("tokenizer_config.json");
        Path configOrNull = Files.isRegularFile(config) ? config : null;
        if (Files.isRegularFile(json)) return fromTokenizerJson(json, configOrNull);
        Path vocab = dir.resolve("vocab.txt");
        if (Files.isRegularFile(vocab)) return fromVocab(vocab, configOrNull);
        throw new TokenizerException(dir + ": has neither tokenizer.json nor vocab.txt");
    }

    // ---------------------------------------------------------------- vocab.txt + tokenizer_config.json

    static Parts fromVocab(Path vocabTxt, Path configOrNull) {
        String content = readUtf8(vocabTxt);
        // Line n (0-based) is token id n; like tokenizers' WordPiece::read_file, trailing whitespace is
        // trimmed and a repeated token keeps its last id.
        Map<String, Integer> vocab = new HashMap<>();
        List<String> lines = content.lines().toList();
        for (int i = 0; i < lines.size(); i++) vocab.put(lines.get(i).stripTrailing(), i);
        if (vocab.isEmpty()) throw new TokenizerException(vocabTxt + ": vocabulary is empty");

        JsonNode config = configOrNull == null ? JsonTrees.NODES.objectNode() : readJson(configOrNull, false);
        String source = configOrNull == null ? vocabTxt.toString() : vocabTxt + " + " + configOrNull;
        boolean lowercase = bool(config, "do_lower_case", true, configOrNull);
        JsonNode strip = config.get("strip_accents");
        boolean stripAccents = strip == null || strip.isNull() ? lowercase : bool(config, "strip_accents", lowercase, configOrNull);
        boolean chinese = bool(config, "tokenize_chinese_chars", true, configOrNull);
        String unk = tokenName(config, "unk_token", "[UNK]");
        String sep = tokenName(config, "sep_token", "[SEP]");
        String pad = tokenName(config, "pad_token", "[PAD]");
        String cls = tokenName(config, "cls_token", "[CLS]");
        String mask = tokenName(config, "mask_token", "[MASK]");
        List<AddedToken> added = addedTokensDecoder(config, vocab, source);
        for (String special : new String[] {pad, unk, cls, sep, mask}) {
            Integer id = vocab.get(special);
            if (id != null && added.stream().noneMatch(t -> t.content().equals(special))) added.add(new AddedToken(special, id, true, false));
        }
        for (String name : new String[] {cls, sep, pad}) {
            if (!vocab.containsKey(name)) throw new TokenizerException(source + ": special token '" + name + "' is not in the vocabulary");
        }
        int modelMaxLength = modelMaxLength(config, DEFAULT_MODEL_MAX_LENGTH);
        return new Parts(vocab, unk, "##", 100, new BertNormalizer(true, chinese, stripAccents, lowercase), added,
                TemplateProcessor.bert(cls, vocab.get(cls), sep, vocab.get(sep)), "##", true, true, EncodeOptions.DEFAULT,
                modelMaxLength, pad, vocab.get(pad), 0, false, source);
    }

    /**
     * tokenizer_config.json's {@code added_tokens_decoder} (transformers writes it beside vocab.txt: every added
     * token with its id and flags, as tokenizer.json's added_tokens). An id past the vocabulary adds a token;
     * an id of the vocabulary must name the same token.
     */
    private static List<AddedToken> addedTokensDecoder(JsonNode config, Map<String, Integer> vocab, String source) {
        JsonNode decoder = config.get("added_tokens_decoder");
        List<AddedToken> added = new ArrayList<>();
        if (decoder == null || decoder.isNull()) return added;
        if (!decoder.isObject()) throw new TokenizerException(source + ": added_tokens_decoder must be an object of id to token");
        String[] tokenOfId = new String[vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) tokenOfId[e.getValue()] = e.getKey();
        int idLimit = tokenOfId.length + decoder.size(); // ids stay dense, as in tokenizer.json (see fromTokenizerJson)
        Map<Integer, String> addedIds = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : decoder.properties()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                id = -1;
            }
            JsonNode t = e.getValue();
            String content = t.path("content").isTextual() ? t.path("content").textValue() : null;
            if (content == null) {
                throw new TokenizerException(source + ": added_tokens_decoder[\"" + e.getKey() + "\"] has no string \"content\"");
            }
            if (id < 0 || id >= idLimit) {
                throw new TokenizerException(source + ": added token " + quote(content) + " has id " + quote(e.getKey())
                        + ", not one of the " + idLimit + " ids of the vocabulary and added_tokens_decoder");
            }
            String other = id < tokenOfId.length ? tokenOfId[id] : addedIds.get(id);
            Integer vocabId = vocab.get(content);
            if ((other != null && !other.equals(content)) || (vocabId != null && vocabId != id)) {
                throw new TokenizerException(source + ": added token " + quote(content) + " has id " + id + ", but "
                        + (other != null && !other.equals(content) ? "the vocabulary gives that id to " + quote(other)
                                : "the vocabulary gives it id " + vocabId) + "; each id must name one token");
            }
            addedIds.put(id, content);
            added.add(addedToken(content, id, t));
        }
        return added;
    }

    /** An added token with the flags of its entry (tokenizer.json's added_tokens, tokenizer_config's added_tokens_decoder). */
    private static AddedToken addedToken(String content, int id, JsonNode flags) {
        boolean special = flags.path("special").asBoolean(false);
        return new AddedToken(content, id, special, flags.path("normalized").asBoolean(!special),
                flags.path("single_word").asBoolean(false), flags.path("lstrip").asBoolean(false), flags.path("rstrip").asBoolean(false));
    }

    /** The file's text; a byte that is not UTF-8 is reported with its offset and line. */
    private static String readUtf8(Path file) {
        return decodeUtf8(file).toString();
    }

    /**
     * The file decoded strictly as UTF-8, the only encoding of these formats (nothing is guessed): a byte that is not
     * UTF-8 is a {@link TokenizerException} with its offset and line. bertj.loader's TextFiles decodes the same way
     * (this module depends on none of ours).
     */
    private static CharBuffer decodeUtf8(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never has more chars than bytes
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int at = in.position(), line = 1;
            for (int i = 0; i < at; i++) if (bytes[i] == '\n') line++;
            throw new TokenizerException(file + ": not valid UTF-8 at byte " + at + " (line " + line + ")");
        }
        decoder.flush(out);
        return out.flip();
    }

    // ---------------------------------------------------------------- tokenizer.json

    static Parts fromTokenizerJson(Path path, Path configOrNull) {
        JsonNode root = readJson(path, true);
        String src = path.toString();
        JsonNode model = root.path("model");
        if (!model.isObject()) throw new TokenizerException(src + ": \"model\" must be an object" + (model.isMissingNode() ? ", and is missing" : ""));
        String modelType = model.path("type").asText("WordPiece");
        if (!"WordPiece".equals(modelType)) {
            throw new TokenizerException(src + ": model.type is '" + modelType + "', only WordPiece models are supported");
        }
        if (!model.path("vocab").isObject()) throw new TokenizerException(src + ": model.vocab must be an object of token ids");
        JsonNode vocabNode = model.get("vocab");
        // Ids index the id-to-token table, so they must stay within the tokens there are (tokenizers numbers
        // them 0..n-1); one huge id would otherwise size that table.
        int idLimit = vocabNode.size() + root.path("added_tokens").size();
        Map<String, Integer> vocab = HashMap.newHashMap(vocabNode.size());
        // Each id names one token: decoding and the encodings' token strings look ids up in one id-to-token
        // table, so a second token on an id (a short one such as [UNK] shadowed by a long one) would change
        // what that id decodes to, and could make every unknown word decode to a string of any length.
        String[] tokenOfId = new String[idLimit];
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            JsonNode value = e.getValue();
            if (!value.canConvertToInt() || value.asInt() < 0) {
                throw new TokenizerException(src + ": model.vocab['" + e.getKey() + "'] is not a non-negative id: " + value);
            }
            int id = value.asInt();
            if (id >= idLimit) {
                throw new TokenizerException(src + ": model.vocab['" + e.getKey() + "'] has id " + id + ", beyond the "
                        + idLimit + " tokens of the vocabulary and added_tokens");
            }
            if (tokenOfId[id] != null) {
                throw new TokenizerException(src + ": model.vocab gives id " + id + " to both " + quote(tokenOfId[id])
                        + " and " + quote(e.getKey()) + "; each id must name one token");
            }
            tokenOfId[id] = e.getKey();
            vocab.put(e.getKey(), id);
        }
        String unk = model.path("unk_token").asText("[UNK]");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        int maxChars = model.path("max_input_chars_per_word").asInt(100);

        BertNormalizer normalizer = normalizer(root.get("normalizer"), src);
        JsonNode pre = root.get("pre_tokenizer");
        if (pre == null || pre.isNull() || !"BertPreTokenizer".equals(pre.path("type").asText())) {
            throw new TokenizerException(src + ": pre_tokenizer " + (pre == null ? "null" : pre.path("type").asText())
                    + " is not supported (only BertPreTokenizer)");
        }

        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.has("id") || !t.has("content")) throw new TokenizerException(src + ": added_tokens entry without id/content: " + t);
            JsonNode id = t.get("id");
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0 || id.intValue() >= idLimit) {
                throw new TokenizerException(src + ": added token '" + t.get("content").asText() + "' has id " + id
                        + ", not one of the " + idLimit + " ids of the vocabulary and added_tokens");
            }
            // tokenizers itself does not take a saved id that belongs to another token: it numbers an added
            // token anew (its vocabulary id, else one past the others) and warns that the id differs.
            String content = t.get("content").asText();
            String other = tokenOfId[id.intValue()];
            if (other == null) tokenOfId[id.intValue()] = content;
            if (other != null && !other.equals(content)) {
                throw new TokenizerException(src + ": added token " + quote(content) + " has id " + id.intValue() + ", which "
                        + (vocab.containsKey(other) && vocab.get(other) == id.intValue() ? "model.vocab" : "an earlier added_tokens entry")
                        + " gives to " + quote(other) + "; each id must name one token");
            }
            added.add(addedToken(content, id.intValue(), t));
        }
        Map<String, Integer> ids = HashMap.newHashMap(vocab.size() + added.size());
        ids.putAll(vocab);
        for (AddedToken t : added) ids.put(t.content(), t.id());

        TemplateProcessor post = postProcessor(root.get("post_processor"), ids, tokenOfId, src);
        JsonNode decoder = root.get("decoder");
        boolean hasDecoder = decoder != null && !decoder.isNull();
        if (hasDecoder && !"WordPiece".equals(decoder.path("type").asText())) {
            throw new TokenizerException(src + ": decoder type '" + decoder.path("type").asText() + "' is not supported (only WordPiece)");
        }
        String decoderPrefix = hasDecoder ? decoder.path("prefix").asText("##") : "##";
        boolean cleanup = !hasDecoder || decoder.path("cleanup").asBoolean(true);

        JsonNode config = configOrNull == null ? null : readJson(configOrNull, false);
        EncodeOptions defaults = EncodeOptions.DEFAULT;
        int modelMaxLength = DEFAULT_MODEL_MAX_LENGTH;
        JsonNode trunc = root.get("truncation");
        if (trunc != null && !trunc.isNull()) {
            if (!"Right".equalsIgnoreCase(trunc.path("direction").asText("Right"))) {
                throw new TokenizerException(src + ": truncation.direction '" + trunc.path("direction").asText() + "' is not supported (only Right)");
            }
            Truncation strategy = switch (trunc.path("strategy").asText("LongestFirst")) {
                case "LongestFirst" -> Truncation.LONGEST_FIRST;
                case "OnlyFirst" -> Truncation.ONLY_FIRST;
                case "OnlySecond" -> Truncation.ONLY_SECOND;
                default -> throw new TokenizerException(src + ": unknown truncation.strategy '" + trunc.path("strategy").asText() + "'");
            };
            int maxLength = savedLength(trunc, "truncation", "max_length", DEFAULT_MODEL_MAX_LENGTH, src);
            defaults = defaults.withTruncation(strategy, maxLength).withStride(savedLength(trunc, "truncation", "stride", 0, src));
            modelMaxLength = maxLength > 0 ? maxLength : modelMaxLength;
        }
        if (config != null) modelMaxLength = modelMaxLength(config, modelMaxLength);

        String padToken = "[PAD]";
        int padId = ids.getOrDefault(padToken, 0), padTypeId = 0;
        boolean padLeft = false;
        JsonNode padding = root.get("padding");
        if (padding != null && !padding.isNull()) {
            JsonNode strategy = padding.path("strategy");
            if (strategy.isTextual() && strategy.asText().equals("BatchLongest")) {
                defaults = defaults.withPadding(Padding.LONGEST);
            } else if (strategy.has("Fixed")) {
                defaults = defaults.withPadding(Padding.MAX_LENGTH, savedLength(strategy, "padding.strategy", "Fixed", 0, src));
            } else {
                throw new TokenizerException(src + ": unknown padding.strategy " + strategy);
            }
            defaults = defaults.withPadToMultipleOf(savedLength(padding, "padding", "pad_to_multiple_of", 0, src));
            padLeft = "Left".equalsIgnoreCase(padding.path("direction").asText("Right"));
            padToken = padding.path("pad_token").asText(padToken);
            if (padding.hasNonNull("pad_id")) padId = tokenId(padding.get("pad_id"), tokenOfId, src, "padding.pad_id");
            padTypeId = padding.path("pad_type_id").asInt(0);
        }
        return new Parts(vocab, unk, prefix, maxChars, normalizer, added, post, decoderPrefix, cleanup, hasDecoder, defaults,
                modelMaxLength, padToken, padId, padTypeId, padLeft, src);
    }

    private static BertNormalizer normalizer(JsonNode n, String src) {
        if (n == null || n.isNull()) return BertNormalizer.none();
        if (!"BertNormalizer".equals(n.path("type").asText())) {
            throw new TokenizerException(src + ": normalizer type '" + n.path("type").asText() + "' is not supported (only BertNormalizer)");
        }
        boolean lowercase = n.path("lowercase").asBoolean(true);
        JsonNode strip = n.get("strip_accents");
        boolean stripAccents = strip == null || strip.isNull() ? lowercase : strip.asBoolean();
        return new BertNormalizer(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
                stripAccents, lowercase);
    }

    private static TemplateProcessor postProcessor(JsonNode p, Map<String, Integer> ids, String[] tokenOfId, String src) {
        if (p == null || p.isNull()) return new TemplateProcessor(List.of(Piece.sequence(0, 0)),
                List.of(Piece.sequence(0, 0), Piece.sequence(1, 1)), Map.of());
        String type = p.path("type").asText();
        switch (type) {
            case "BertProcessing" -> {
                String sep = p.path("sep").path(0).asText("[SEP]"), cls = p.path("cls").path(0).asText("[CLS]");
                JsonNode clsId = p.path("cls").has(1) ? p.path("cls").get(1) : idNode(ids.get(cls));
                JsonNode sepId = p.path("sep").has(1) ? p.path("sep").get(1) : idNode(ids.get(sep));
                return TemplateProcessor.bert(cls, tokenId(clsId, tokenOfId, src, "post_processor.cls id"),
                        sep, tokenId(sepId, tokenOfId, src, "post_processor.sep id"));
            }
            case "TemplateProcessing" -> {
                Map<String, int[]> specials = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : p.path("special_tokens").properties()) {
                    JsonNode list = e.getValue().path("ids");
                    int[] tokenIds = new int[list.size()];
                    for (int i = 0; i < tokenIds.length; i++) {
                        String what = "post_processor.special_tokens['" + e.getKey() + "'] id";
                        tokenIds[i] = tokenId(list.get(i), tokenOfId, src, what);
                    }
                    specials.put(e.getKey(), tokenIds);
                }
                return new TemplateProcessor(template(p.path("single"), "single", 1, 0, src),
                        template(p.path("pair"), "pair", 1, 1, src), specials);
            }
            default -> throw new TokenizerException(src + ": post_processor type '" + type
                    + "' is not supported (TemplateProcessing or BertProcessing)");
        }
    }

    /**
     * A template that holds sequence A {@code countA} times and B {@code countB} times: a BERT template has each
     * of its sequences once (a repeated one would multiply the overflowing windows with every copy).
     */
    private static List<Piece> template(JsonNode pieces, String name, int countA, int countB, String src) {
        List<Piece> out = template(pieces, src);
        long a = out.stream().filter(piece -> piece.sequence() == 0).count();
        long b = out.stream().filter(piece -> piece.sequence() == 1).count();
        if (a != countA || b != countB) {
            throw new TokenizerException(src + ": post_processor." + name + " holds sequence A " + a + " times and B " + b
                    + " times; a BERT template holds A " + countA + " time(s) and B " + countB + " time(s)");
        }
        return out;
    }

    private static List<Piece> template(JsonNode pieces, String src) {
        List<Piece> out = new ArrayList<>();
        for (JsonNode piece : pieces) {
            if (piece.has("SpecialToken")) {
                JsonNode s = piece.get("SpecialToken");
                out.add(Piece.special(s.path("id").asText(), s.path("type_id").asInt(0)));
            } else if (piece.has("Sequence")) {
                JsonNode s = piece.get("Sequence");
                out.add(Piece.sequence("B".equals(s.path("id").asText("A")) ? 1 : 0, s.path("type_id").asInt(0)));
            } else {
                throw new TokenizerException(src + ": post_processor template piece not understood: " + piece);
            }
        }
        return out;
    }

    /**
     * A truncation or padding length saved in tokenizer.json: an integer from 0 to {@link #MAX_SAVED_LENGTH}
     * ({@code dflt} when absent or null), since every encoding is laid out at that length.
     */
    private static int savedLength(JsonNode section, String sectionName, String field, int dflt, String src) {
        JsonNode v = section.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() > MAX_SAVED_LENGTH) {
            throw new TokenizerException(src + ": " + sectionName + "." + field + " must be an integer from 0 to " + MAX_SAVED_LENGTH
                    + ", got " + v);
        }
        return v.intValue();
    }

    /**
     * A token for a message: quoted, control characters and lone surrogates escaped (so that the message
     * stays on one line), and cut after 60 chars when longer (a token may run to megabytes).
     */
    private static String quote(String token) {
        int max = 60, n = Math.min(token.length(), max);
        if (n < token.length() && Character.isHighSurrogate(token.charAt(n - 1))) n--;
        StringBuilder sb = new StringBuilder(n + 32).append('\'');
        for (int i = 0; i < n; i++) {
            char c = token.charAt(i);
            boolean paired = Character.isHighSurrogate(c) ? i + 1 < token.length() && Character.isLowSurrogate(token.charAt(i + 1))
                    : Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(token.charAt(i - 1));
            if (Character.isISOControl(c) || (Character.isSurrogate(c) && !paired)) sb.append(String.format("\\u%04X", (int) c));
            else sb.append(c);
        }
        sb.append('\'');
        return n < token.length() ? sb.append("... (").append(token.length()).append(" chars)").toString() : sb.toString();
    }

    private static JsonNode idNode(Integer idOrNull) {
        return idOrNull == null ? null : JsonTrees.NODES.numberNode(idOrNull);
    }

    /** A token id the file refers to, which must be the id of one of its tokens (encodings show its token). */
    private static int tokenId(JsonNode v, String[] tokenOfId, String src, String what) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() >= tokenOfId.length
                || tokenOfId[v.intValue()] == null) {
            throw new TokenizerException(src + ": " + what + " must be the id of a token of the vocabulary or added_tokens, "
                    + "got " + (v == null ? "none (the token is not in the vocabulary)" : v));
        }
        return v.intValue();
    }

    /**
     * A JSON file, read as UTF-8. tokenizer.json ({@code unicodeStrings}) is refused when a string holds a lone
     * surrogate, as tokenizers refuses it; tokenizer_config.json, which transformers reads with Python's json, is not.
     */
    private static JsonNode readJson(Path path, boolean unicodeStrings) {
        CharBuffer text = decodeUtf8(path);
        try {
            return JsonTrees.parse(text.array(), text.limit(), unicodeStrings);
        } catch (JacksonException e) {
            throw new TokenizerException(path + ": not valid JSON: " + JsonTrees.describe(e), e);
        } catch (IOException e) {
            throw new TokenizerException(path + ": cannot read JSON: " + e.getMessage(), e);
        }
    }

    private static boolean bool(JsonNode config, String field, boolean dflt, Path file) {
        JsonNode v = config.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new TokenizerException(file + ": " + field + " must be true or false, got " + v);
        return v.asBoolean();
    }

    /** A special token name: a string or an AddedToken object with {@code content}. */
    private static String tokenName(JsonNode config, String field, String dflt) {
        JsonNode v = config.get(field);
        if (v == null || v.isNull()) return dflt;
        return v.isTextual() ? v.asText() : v.path("content").asText(dflt);
    }

    private static int modelMaxLength(JsonNode config, int dflt) {
        JsonNode v = config.get("model_max_length");
        // transformers writes a huge number (1e30) when the model sets no limit.
        if (v == null || !v.isNumber() || v.asDouble() <= 0 || v.asDouble() > Integer.MAX_VALUE) return dflt;
        return v.asInt();
    }
}
