package bertj.loader.onnx;

import bertj.loader.ModelFormatException;
import bertj.loader.TextFiles;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer side of a converted model, from a Hugging Face {@code tokenizer.json} with a WordPiece model:
 * the file itself, {@code vocab.txt} (one token per line, line n = id n), {@code tokenizer_config.json} and
 * {@code special_tokens_map.json} as {@code BertTokenizer.save_pretrained} writes them.
 */
record TokenizerFiles(String[] vocab, boolean lowercase, JsonNode stripAccents, boolean chineseChars,
                      boolean cleanUpSpaces, Map<String, String> specialTokens) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SPECIAL_ROLES = List.of("unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    /** The id of [PAD] (0 in BERT vocabularies), which config.json repeats as pad_token_id. */
    int padTokenId() {
        String pad = specialTokens.get("pad_token");
        for (int id = 0; pad != null && id < vocab.length; id++) if (vocab[id].equals(pad)) return id;
        return 0;
    }

    /**
     * Reads tokenizer.json as tokenizers does: UTF-8 (see {@link TextFiles}), and refused when a string holds a lone
     * surrogate ({@code "\ud800"}), which tokenizers' reader refuses and vocab.txt, UTF-8 text, could not hold.
     */
    static TokenizerFiles read(Path file) {
        String text = TextFiles.readUtf8(file);
        if (text.startsWith("\uFEFF")) {
            throw new ModelFormatException(file + ": not valid JSON: starts with a byte order mark (U+FEFF), which a JSON file"
                    + " must not have; Hugging Face's readers refuse it too");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        String lone = loneSurrogate(root, "");
        if (lone != null) {
            throw new ModelFormatException(file + ": " + lone + " holds a lone surrogate, which is not Unicode text (tokenizers"
                    + " cannot read it either)");
        }
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !"WordPiece".equals(model.path("type").asText())) {
            throw new ModelFormatException(file + ": expected a WordPiece tokenizer (model.type \"WordPiece\"), found "
                    + (model == null ? "no model" : "\"" + model.path("type").asText() + "\""));
        }
        JsonNode ids = model.get("vocab");
        if (ids == null || !ids.isObject() || ids.isEmpty()) throw new ModelFormatException(file + ": model.vocab is missing or empty");
        String[] vocab = new String[ids.size()];
        for (Map.Entry<String, JsonNode> e : ids.properties()) {
            int id = e.getValue().asInt(-1);
            if (!e.getValue().isInt() || id < 0 || id >= vocab.length || vocab[id] != null) {
                throw new ModelFormatException(file + ": vocabulary ids must be 0.." + (vocab.length - 1)
                        + " without repeats; token \"" + e.getKey() + "\" has id " + e.getValue());
            }
            if (e.getKey().indexOf('\n') >= 0 || e.getKey().indexOf('\r') >= 0) {
                throw new ModelFormatException(file + ": token with id " + id + " contains a line break; vocab.txt cannot hold it");
            }
            vocab[id] = e.getKey();
        }
        JsonNode normalizer = root.path("normalizer");
        boolean bertNormalizer = "BertNormalizer".equals(normalizer.path("type").asText());
        Map<String, String> special = new LinkedHashMap<>();
        List<String> tokens = List.of(vocab);
        special.put("unk_token", model.path("unk_token").asText("[UNK]"));
        for (String role : SPECIAL_ROLES) {
            String standard = "[" + role.substring(0, role.indexOf('_')).toUpperCase() + "]";
            if (!special.containsKey(role) && tokens.contains(standard)) special.put(role, standard);
        }
        return new TokenizerFiles(vocab,
                bertNormalizer && normalizer.path("lowercase").asBoolean(true),
                bertNormalizer ? normalizer.path("strip_accents") : null,
                !bertNormalizer || normalizer.path("handle_chinese_chars").asBoolean(true),
                root.path("decoder").path("cleanup").asBoolean(true),
                special);
    }

    /** Where the first key or string of the tree that holds a lone surrogate is (a JSON pointer), or null. */
    private static String loneSurrogate(JsonNode node, String at) {
        if (node.isTextual()) return TextFiles.loneSurrogate(node.textValue()) >= 0 ? "the string at " + (at.isEmpty() ? "/" : at) : null;
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (TextFiles.loneSurrogate(e.getKey()) >= 0) return "a key of " + (at.isEmpty() ? "/" : at);
                String key = e.getKey();
                if (key.length() > 40) key = key.substring(0, Character.isHighSurrogate(key.charAt(36)) ? 36 : 37) + "...";
                String where = at + "/" + key.replace("~", "~0").replace("/", "~1");
                String inside = loneSurrogate(e.getValue(), where);
                if (inside != null) return inside;
            }
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String inside = loneSurrogate(node.get(i), at + "/" + i);
                if (inside != null) return inside;
            }
        }
        return null;
    }

    /** Writes the four files into {@code dir}; {@code source} is copied byte for byte, the others written as {@link TextFiles} says. */
    void write(Path source, Path dir, int modelMaxLength) throws IOException {
        Path target = dir.resolve("tokenizer.json");
        if (!Files.exists(target) || !Files.isSameFile(source, target)) {
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
        TextFiles.writeUtf8(dir.resolve("vocab.txt"), String.join("\n", vocab) + "\n");

        ObjectNode config = JSON.createObjectNode();
        config.put("tokenizer_class", "BertTokenizer");
        config.put("do_lower_case", lowercase);
        if (stripAccents == null || stripAccents.isMissingNode()) config.putNull("strip_accents");
        else config.set("strip_accents", stripAccents);
        config.put("tokenize_chinese_chars", chineseChars);
        config.put("model_max_length", modelMaxLength);
        config.put("clean_up_tokenization_spaces", cleanUpSpaces);
        specialTokens.forEach(config::put);
        TextFiles.writeJson(dir.resolve("tokenizer_config.json"), config);

        ObjectNode map = JSON.createObjectNode();
        specialTokens.forEach(map::put);
        TextFiles.writeJson(dir.resolve("special_tokens_map.json"), map);
    }
}
