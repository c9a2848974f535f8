package bertj.testsupport;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Mutations for {@link FuzzHarness}: byte-level (bit flips, insertions, deletions, truncation, splicing,
 * interesting integers in 1/2/4/8 bytes of either byte order), JSON-aware (values of another type, deleted and
 * duplicated keys, deep nesting, huge numbers, long strings, subtrees moved elsewhere), line-level for
 * vocab.txt, and per part for inputs made of several files ({@link #join}).
 */
public final class FuzzMutator {
    public static final long[] INTERESTING_INTEGERS = {0, 1, -1, 2, 3, 7, 8, 16, 64, 127, 128, 255, 256, 512, 1024, 4096, 32767, 32768,
            65535, 65536, Integer.MAX_VALUE, 1L << 31, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 53, 1L << 62, Long.MAX_VALUE,
            Long.MIN_VALUE, Integer.MIN_VALUE, -2, -128, 100_000_001};
    static final String[] INTERESTING_NUMBERS = {"0", "-0", "1", "-1", "2", "3", "0.5", "-0.5", "1.0", "1e-12", "1e-400", "1e308",
            "1e400", "-1e400", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
            "1099511627776", "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "18446744073709551615", "18446744073709551616", "123456789012345678901234567890123456789"};
    static final String[] INTERESTING_STRINGS = {"", " ", "\t", "\n", "\u0000", "\uD800", "\uDFFF", "\uD800x", "\uFFFD", "\uFFFF",
            "\uFEFF", "\uD83D\uDE00", "\u0301", "\u4E2D", "a", "A", "##", "#", "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]",
            "null", "true", "0", "-1", "NaN", "..", "../x", "/", ".", "\\", "C:\\x", "a/../../b", "%s", "${x}"};
    /** Raw byte sequences that break UTF-8 or JSON grammar. */
    static final byte[][] INTERESTING_BYTES = {{'{'}, {'}'}, {'['}, {']'}, {'"'}, {','}, {':'}, {'\\'}, {'-'}, {'.'}, {'e'},
            {'0'}, {0}, {'\n'}, {'\r', '\n'}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xFF}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
            {'N', 'a', 'N'}, {'\\', 'u', 'D', '8', '0', '0'}, {'/', '*'}, {'1', 'e', '9', '9', '9'}};

    /** Between the files of a multi-file input. */
    private static final byte[] SEPARATOR = "\n\u0000--8<--\u0000\n".getBytes(StandardCharsets.UTF_8);
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(5000).build())
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Words of the format under test (field names, dtype names, file names) to insert as keys and values. */
    private final List<String> words;

    public FuzzMutator(List<String> words) {
        this.words = List.copyOf(words);
    }

    // ------------------------------------------------------------------ bytes

    /** One to four byte-level mutations. */
    public byte[] bytes(Random r, byte[] input, List<byte[]> pool) {
        byte[] b = input;
        for (int n = 1 + r.nextInt(4); n > 0; n--) b = byteMutation(r, b, pool);
        return b;
    }

    private byte[] byteMutation(Random r, byte[] b, List<byte[]> pool) {
        int at = b.length == 0 ? 0 : r.nextInt(b.length);
        return switch (r.nextInt(12)) {
            case 0 -> { // flip a bit
                if (b.length == 0) yield insert(b, 0, new byte[] {(byte) r.nextInt()});
                byte[] c = b.clone();
                c[at] ^= (byte) (1 << r.nextInt(8));
                yield c;
            }
            case 1 -> { // a random byte
                if (b.length == 0) yield b;
                byte[] c = b.clone();
                c[at] = (byte) r.nextInt();
                yield c;
            }
            case 2 -> { // random bytes inserted
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                yield insert(b, r.nextInt(b.length + 1), ins);
            }
            case 3 -> insert(b, r.nextInt(b.length + 1), pick(r, INTERESTING_BYTES));
            case 4 -> insert(b, r.nextInt(b.length + 1), pickWord(r).getBytes(StandardCharsets.UTF_8));
            case 5 -> { // delete a range
                if (b.length == 0) yield b;
                int len = 1 + r.nextInt(Math.min(b.length - at, 1 + r.nextInt(64)));
                yield concat(Arrays.copyOfRange(b, 0, at), Arrays.copyOfRange(b, at + len, b.length));
            }
            case 6 -> { // copy a range elsewhere, sometimes many times
                if (b.length == 0) yield b;
                int len = 1 + r.nextInt(Math.min(b.length - at, 1 + r.nextInt(256)));
                byte[] range = Arrays.copyOfRange(b, at, at + len);
                int times = r.nextInt(8) == 0 ? 1 + r.nextInt(1000) : 1;
                byte[] ins = new byte[range.length * times];
                for (int i = 0; i < times; i++) System.arraycopy(range, 0, ins, i * range.length, range.length);
                yield insert(b, r.nextInt(b.length + 1), ins);
            }
            case 7 -> Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length)); // truncate
            case 8 -> { // splice: a prefix of this input and a suffix of another
                byte[] other = pool.get(r.nextInt(pool.size()));
                int from = other.length == 0 ? 0 : r.nextInt(other.length);
                yield concat(Arrays.copyOf(b, at), Arrays.copyOfRange(other, from, other.length));
            }
            case 9 -> { // an interesting integer over 1, 2, 4 or 8 bytes, either byte order
                int width = 1 << r.nextInt(4);
                if (b.length < width) yield b;
                int pos = r.nextInt(b.length - width + 1);
                ByteBuffer buf = ByteBuffer.allocate(8).order(r.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
                long v = pick(r, INTERESTING_INTEGERS);
                if (buf.order() == ByteOrder.LITTLE_ENDIAN) buf.putLong(v);
                else buf.putLong(v << (64 - 8 * width));
                byte[] c = b.clone();
                System.arraycopy(buf.array(), 0, c, pos, width);
                yield c;
            }
            case 10 -> replaceDigits(r, b);
            default -> { // a byte near its value (off-by-one in lengths and ids)
                if (b.length == 0) yield b;
                byte[] c = b.clone();
                c[at] += (byte) (r.nextBoolean() ? 1 : -1);
                yield c;
            }
        };
    }

    /** A run of ASCII digits replaced by an interesting number, as it would be written in JSON. */
    private static byte[] replaceDigits(Random r, byte[] b) {
        if (b.length == 0) return b;
        int start = r.nextInt(b.length);
        while (start < b.length && !isDigit(b[start])) start++;
        if (start == b.length) return b;
        int end = start;
        while (end < b.length && isDigit(b[end])) end++;
        byte[] number = pick(r, INTERESTING_NUMBERS).getBytes(StandardCharsets.US_ASCII);
        return concat(concat(Arrays.copyOf(b, start), number), Arrays.copyOfRange(b, end, b.length));
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    // ------------------------------------------------------------------ JSON

    /** One to three changes to the JSON tree, sometimes followed by a byte mutation; bytes alone if it does not parse. */
    public byte[] json(Random r, byte[] input, List<byte[]> pool) {
        JsonNode root;
        try { // from strictly decoded text: given bytes, Jackson would guess UTF-16 or UTF-32 from zero bytes
            root = MAPPER.readTree(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(input)).toString());
        } catch (IOException | RuntimeException e) {
            return bytes(r, input, pool);
        }
        if (root == null || root.isMissingNode()) return bytes(r, input, pool);
        Duplicate duplicate = null;
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
            List<Slot> slots = new ArrayList<>();
            collect(null, null, -1, root, slots);
            Slot s = slots.get(r.nextInt(slots.size()));
            switch (r.nextInt(11)) {
                case 0, 1 -> root = s.replace(root, interestingValue(r));
                case 2 -> root = s.remove(root);
                case 3 -> { // the same key twice, with another value the second time
                    if (s.value instanceof ObjectNode o && !o.isEmpty()) {
                        List<String> names = o.propertyStream().map(Map.Entry::getKey).toList();
                        duplicate = new Duplicate(o, names.get(r.nextInt(names.size())), r.nextBoolean()
                                ? interestingValue(r) : slots.get(r.nextInt(slots.size())).value.deepCopy());
                    }
                }
                case 4 -> root = s.replace(root, slots.get(r.nextInt(slots.size())).value.deepCopy()); // type confusion
                case 5 -> root = s.replace(root, tweak(r, s.value));
                case 6 -> { // a new key or element
                    if (s.value instanceof ObjectNode o) o.set(pickWord(r), interestingValue(r));
                    else if (s.value instanceof ArrayNode a) a.insert(r.nextInt(a.size() + 1), interestingValue(r));
                }
                case 7 -> { // an array grown by copies of an element, or emptied
                    if (s.value instanceof ArrayNode a && !a.isEmpty()) {
                        if (r.nextInt(4) == 0) {
                            a.removeAll();
                        } else {
                            JsonNode e = a.get(r.nextInt(a.size()));
                            int copies = r.nextInt(4) == 0 ? 1000 : 1 + r.nextInt(4);
                            // no more copies than make a mutant of the harness's largest size (a big subtree copied
                            // 1000 times could fill the heap before the harness cuts it)
                            if (copies > 4) copies = (int) Math.min(copies, FuzzHarness.MAX_INPUT_BYTES / Math.max(1, toJson(e).length));
                            for (int i = copies; i > 0; i--) a.add(e.deepCopy());
                        }
                    }
                }
                case 8 -> { // a key renamed
                    if (s.parent instanceof ObjectNode o && s.field != null) {
                        o.remove(s.field);
                        o.set(r.nextBoolean() ? pickWord(r) : tweakString(r, s.field), s.value);
                    }
                }
                case 9 -> root = s.replace(root, nest(r, s.value, r.nextInt(3) == 0 ? 2000 : 1 + r.nextInt(50)));
                default -> { // an object's keys shuffled, or an array reversed
                    if (s.value instanceof ObjectNode o && o.size() > 1) {
                        List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(o.properties());
                        java.util.Collections.shuffle(fields, r);
                        o.removeAll();
                        for (Map.Entry<String, JsonNode> e : fields) o.set(e.getKey(), e.getValue());
                    } else if (s.value instanceof ArrayNode a && a.size() > 1) {
                        List<JsonNode> elements = new ArrayList<>();
                        a.forEach(elements::add);
                        a.removeAll();
                        for (int i = elements.size() - 1; i >= 0; i--) a.add(elements.get(i));
                    }
                }
            }
        }
        byte[] out = write(root, duplicate);
        return r.nextInt(6) == 0 ? bytes(r, out, pool) : out;
    }

    /** A JSON node, where it sits, and how to put another in its place. */
    private record Slot(JsonNode parent, String field, int index, JsonNode value) {
        JsonNode replace(JsonNode root, JsonNode v) {
            if (parent == null) return v;
            if (parent instanceof ObjectNode o) o.set(field, v);
            else ((ArrayNode) parent).set(index, v);
            return root;
        }

        JsonNode remove(JsonNode root) {
            if (parent == null) return root;
            if (parent instanceof ObjectNode o) o.remove(field);
            else ((ArrayNode) parent).remove(index);
            return root;
        }
    }

    private record Duplicate(ObjectNode object, String field, JsonNode value) {
    }

    private static void collect(JsonNode parent, String field, int index, JsonNode node, List<Slot> out) {
        out.add(new Slot(parent, field, index, node));
        if (node instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> e : o.properties()) collect(o, e.getKey(), -1, e.getValue(), out);
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) collect(a, null, i, a.get(i), out);
        }
    }

    private JsonNode interestingValue(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(r.nextBoolean());
            case 2, 3 -> number(pick(r, INTERESTING_NUMBERS));
            case 4 -> NODES.textNode(r.nextBoolean() ? pickWord(r) : randomString(r, r.nextInt(4) == 0 ? 100_000 : 12));
            case 5 -> NODES.objectNode().set(pickWord(r), number(pick(r, INTERESTING_NUMBERS)));
            case 6 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) a.add(number(pick(r, INTERESTING_NUMBERS)));
                yield a;
            }
            default -> r.nextBoolean() ? NODES.arrayNode() : NODES.objectNode();
        };
    }

    private static JsonNode number(String text) {
        if (text.contains(".") || text.contains("e")) return NODES.numberNode(new BigDecimal(text));
        return NODES.numberNode(new BigInteger(text));
    }

    /** A value changed within its own type: a number off by one or scaled, a string edited. */
    private JsonNode tweak(Random r, JsonNode v) {
        if (v.isIntegralNumber()) {
            BigInteger n = v.bigIntegerValue();
            return NODES.numberNode(switch (r.nextInt(5)) {
                case 0 -> n.add(BigInteger.ONE);
                case 1 -> n.subtract(BigInteger.ONE);
                case 2 -> n.negate();
                case 3 -> n.multiply(BigInteger.valueOf(1000));
                default -> n.shiftLeft(31);
            });
        }
        if (v.isNumber()) return NODES.numberNode(v.decimalValue().negate().add(BigDecimal.valueOf(r.nextGaussian())));
        if (v.isTextual()) return NODES.textNode(tweakString(r, v.textValue()));
        return interestingValue(r);
    }

    private String tweakString(Random r, String s) {
        return switch (r.nextInt(6)) {
            case 0 -> s + pick(r, INTERESTING_STRINGS);
            case 1 -> pick(r, INTERESTING_STRINGS) + s;
            case 2 -> s.isEmpty() ? s : s.substring(0, r.nextInt(s.length()));
            case 3 -> s.toUpperCase(java.util.Locale.ROOT);
            case 4 -> s.repeat(Math.min(1 + r.nextInt(50), 1 + FuzzHarness.MAX_INPUT_BYTES / Math.max(1, s.length())));
            default -> pickWord(r);
        };
    }

    private static JsonNode nest(Random r, JsonNode v, int depth) {
        JsonNode n = v;
        boolean arrays = r.nextBoolean();
        for (int i = 0; i < depth; i++) n = arrays ? NODES.arrayNode().add(n) : NODES.objectNode().set("a", n);
        return n;
    }

    /** The tree as JSON text. */
    public static byte[] toJson(JsonNode root) {
        return write(root, null);
    }

    /** The tree as JSON text; {@code duplicate} adds its key a second time to its object. */
    private static byte[] write(JsonNode root, Duplicate duplicate) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, root, duplicate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void write(JsonGenerator g, JsonNode n, Duplicate duplicate) throws IOException {
        if (n instanceof ObjectNode o) {
            g.writeStartObject();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                g.writeFieldName(e.getKey());
                write(g, e.getValue(), duplicate);
            }
            if (duplicate != null && duplicate.object == o) {
                g.writeFieldName(duplicate.field);
                write(g, duplicate.value, null);
            }
            g.writeEndObject();
        } else if (n instanceof ArrayNode a) {
            g.writeStartArray();
            for (JsonNode e : a) write(g, e, duplicate);
            g.writeEndArray();
        } else {
            MAPPER.writeTree(g, n);
        }
    }

    // ------------------------------------------------------------------ lines

    /** Line-level changes for vocab.txt-like files, sometimes followed by a byte mutation. */
    public byte[] lines(Random r, byte[] input, List<byte[]> pool) {
        List<String> lines = new ArrayList<>(Arrays.asList(new String(input, StandardCharsets.UTF_8).split("\n", -1)));
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
            int at = r.nextInt(lines.size() + 1);
            switch (r.nextInt(7)) {
                case 0 -> { if (at < lines.size()) lines.remove(at); }
                case 1 -> { if (at < lines.size()) lines.add(at, lines.get(at)); }
                case 2 -> lines.add(at, r.nextBoolean() ? pickWord(r) : randomString(r, r.nextInt(8) == 0 ? 70_000 : 10));
                case 3 -> { if (at < lines.size()) lines.set(at, tweakString(r, lines.get(at))); }
                case 4 -> { if (lines.size() > 1) java.util.Collections.swap(lines, r.nextInt(lines.size()), r.nextInt(lines.size())); }
                case 5 -> lines = new ArrayList<>(lines.subList(0, Math.min(lines.size(), at)));
                default -> { if (at < lines.size()) lines.set(at, lines.get(at) + (r.nextBoolean() ? "\r" : " \t")); }
            }
        }
        byte[] out = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
        return r.nextInt(6) == 0 ? bytes(r, out, pool) : out;
    }

    // ------------------------------------------------------------------ inputs of several files

    /** Several files as one input; a mutation changes one of them. */
    public static byte[] join(List<byte[]> parts) {
        byte[] out = new byte[0];
        for (int i = 0; i < parts.size(); i++) out = concat(i == 0 ? out : concat(out, SEPARATOR), parts.get(i));
        return out;
    }

    public static List<byte[]> split(byte[] input) {
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i + SEPARATOR.length <= input.length; i++) {
            if (input[i] == SEPARATOR[0] && Arrays.equals(input, i, i + SEPARATOR.length, SEPARATOR, 0, SEPARATOR.length)) {
                parts.add(Arrays.copyOfRange(input, start, i));
                start = i + SEPARATOR.length;
                i = start - 1;
            }
        }
        parts.add(Arrays.copyOfRange(input, start, input.length));
        return parts;
    }

    /** Mutates one part of a multi-file input with that part's mutator. */
    public static FuzzHarness.Mutator perPart(List<FuzzHarness.Mutator> mutators) {
        return (r, input, pool) -> {
            List<byte[]> parts = new ArrayList<>(split(input));
            int i = r.nextInt(Math.min(parts.size(), mutators.size()));
            parts.set(i, mutators.get(i).mutate(r, parts.get(i), pool));
            return join(parts);
        };
    }

    // ------------------------------------------------------------------ helpers

    private String pickWord(Random r) {
        return words.isEmpty() || r.nextInt(3) == 0 ? pick(r, INTERESTING_STRINGS) : words.get(r.nextInt(words.size()));
    }

    /** Letters, digits, spaces, punctuation, accents, CJK, emoji, controls and lone surrogates. */
    public static String randomString(Random r, int maxLength) {
        String[] alphabet = {"a", "Z", "7", " ", "\t", "\n", ".", ",", "'", "-", "#", "é", "e\u0301", "ß", "İ", "\u4E2D", "\u3042",
                "\uD83D\uDE00", "\u0000", "\u001F", "\u007F", "\u200B", "\uFEFF", "\uD800", "\uDC00", "\uFFFF", "\u0E01"};
        int n = maxLength == 0 ? 0 : r.nextInt(maxLength + 1);
        StringBuilder sb = new StringBuilder(n);
        while (sb.length() < n) sb.append(alphabet[r.nextInt(alphabet.length)]);
        return sb.toString();
    }

    public static <T> T pick(Random r, T[] values) {
        return values[r.nextInt(values.length)];
    }

    public static long pick(Random r, long[] values) {
        return values[r.nextInt(values.length)];
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] insert(byte[] b, int at, byte[] ins) {
        return concat(concat(Arrays.copyOf(b, at), ins), Arrays.copyOfRange(b, at, b.length));
    }
}
