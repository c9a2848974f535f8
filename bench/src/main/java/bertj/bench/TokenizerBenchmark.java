package bertj.bench;

import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.EncodeOptions;
import bertj.tools.ModelArgument;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Tokenization throughput, single-threaded: each operation encodes one paragraph (special tokens, no
 * truncation or padding). The {@code bytes} counter is UTF-8 input bytes per second: divide by 10^6 for MB/s.
 *
 * <p>Corpora: {@code english} is real English prose, the licence texts Debian ships in
 * /usr/share/common-licenses (GPL-3, Apache-2.0, ...; property {@code bertj.bench.englishText} names another
 * file); {@code mixed} interleaves those paragraphs with sentences in 12 scripts (accents, Cyrillic, Greek,
 * Arabic, Hebrew, Devanagari, Thai, CJK, Hangul, emoji). The tokenizer: JMH parameter {@code model} (a model or
 * tokenizer directory), else system property {@code bertj.bench.model}, else the default model. For example
 * {@code ./bertj bench jmh TokenizerBenchmark -p corpus=english}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBenchmark extends BenchmarkDefaults {
    private static final String[] OTHER_SCRIPTS = {
        "Les élèves français étudient l'économie à l'université de Montréal depuis déjà trois années.",
        "Über die Brücke gingen fünf Mädchen mit ihren großen Hunden nach Hause zurück.",
        "Съешь же ещё этих мягких французских булок, да выпей чаю — сказал он.",
        "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο στην αυλή.",
        "النص العربي يكتب من اليمين إلى اليسار ويحتوي على حروف متصلة وحركات.",
        "עברית נכתבת מימין לשמאל, ולעתים קרובות בלי ניקוד בכלל.",
        "हिन्दी भारत की एक प्रमुख भाषा है और देवनागरी लिपि में लिखी जाती है।",
        "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ ทำให้การตัดคำเป็นเรื่องยาก",
        "机器学习模型需要大量的训练数据才能取得良好的效果。",
        "東京の天気は晴れですが、明日は雨が降るかもしれません。",
        "한국어는 한글로 쓰며 음절 단위로 모아 씁니다.",
        "Great job 👍🏽 see you at the café ☕ — 5€ for two 🥐🥐!",
    };

    @Param({"english", "mixed"})
    public String corpus;

    /** A model directory or "default"; empty means the system property bertj.bench.model, else "default". */
    @Param({""})
    public String model;

    private BertTokenizer tokenizer;
    private List<String> paragraphs;
    private int[] utf8Bytes;
    private int next;

    /** Input consumed, reported by JMH as a rate next to the operation count. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void load() {
        String name = !model.isEmpty() ? model : System.getProperty("bertj.bench.model", "default");
        // Any directory with tokenizer.json or vocab.txt will do; it need not hold a whole model.
        tokenizer = BertTokenizer.fromDirectory(name.equals("default") ? ModelArgument.resolve(name) : Path.of(name));
        List<String> english = englishParagraphs();
        paragraphs = new ArrayList<>();
        for (int i = 0; i < english.size(); i++) {
            paragraphs.add(english.get(i));
            if (corpus.equals("mixed")) paragraphs.add(OTHER_SCRIPTS[i % OTHER_SCRIPTS.length]);
        }
        if (!corpus.equals("english") && !corpus.equals("mixed")) throw new IllegalArgumentException("unknown corpus " + corpus);
        utf8Bytes = paragraphs.stream().mapToInt(p -> p.getBytes(StandardCharsets.UTF_8).length).toArray();
    }

    private static List<String> englishParagraphs() {
        String property = System.getProperty("bertj.bench.englishText");
        List<Path> files = property != null ? List.of(Path.of(property))
                : List.of("GPL-3", "Apache-2.0", "GPL-2", "LGPL-2.1", "MPL-2.0", "Artistic", "GFDL-1.3").stream()
                        .map(f -> Path.of("/usr/share/common-licenses", f)).filter(Files::isRegularFile).toList();
        if (files.isEmpty()) {
            throw new IllegalStateException("no English text: /usr/share/common-licenses is missing; set -Dbertj.bench.englishText=FILE");
        }
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            try {
                for (String p : Files.readString(f, StandardCharsets.UTF_8).split("\\n\\s*\\n")) {
                    if (!p.isBlank()) out.add(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + f, e);
            }
        }
        return out;
    }

    @Benchmark
    public void encode(Bytes counter, Blackhole bh) {
        int i = next;
        next = i + 1 == paragraphs.size() ? 0 : i + 1;
        bh.consume(tokenizer.encode(paragraphs.get(i), null, EncodeOptions.DEFAULT));
        counter.bytes += utf8Bytes[i];
    }
}
