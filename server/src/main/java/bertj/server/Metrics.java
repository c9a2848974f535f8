package bertj.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The server's counters and histograms, rendered in Prometheus' text format for {@code GET /metrics}. Names follow
 * text-embeddings-inference's ({@code te_request_count}, {@code te_batch_next_size}, ...), with a {@code route} label.
 */
final class Metrics {
    /** TEI's duration buckets: 35 steps of x1.5 from 15 us. */
    static final double[] DURATION_BUCKETS = geometric(0.00001 * 1.5, 1.5, 35);
    /** Powers of two, for sizes and token counts. */
    static final double[] SIZE_BUCKETS = geometric(1, 2, 13), TOKEN_BUCKETS = geometric(1, 2, 21);

    private final Map<String, Family> families = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

    void increment(String name, String help, String... labels) {
        counter(name, help, labels).increment();
    }

    LongAdder counter(String name, String help, String... labels) {
        return (LongAdder) family(name, help, "counter", null).series.computeIfAbsent(labelText(labels), k -> new LongAdder());
    }

    void observe(String name, String help, double[] buckets, double value, String... labels) {
        Family f = family(name, help, "histogram", buckets);
        ((Histogram) f.series.computeIfAbsent(labelText(labels), k -> new Histogram(buckets.length))).observe(buckets, value);
    }

    /** A value read at each scrape (the queue's length, say). */
    void gauge(String name, String help, LongSupplier value) {
        family(name, help, "gauge", null);
        gauges.put(name, value);
    }

    String render() {
        StringBuilder out = new StringBuilder();
        for (Family f : new TreeMap<>(families).values()) {
            out.append("# HELP ").append(f.name).append(' ').append(f.help).append('\n');
            out.append("# TYPE ").append(f.name).append(' ').append(f.type).append('\n');
            if (f.type.equals("gauge")) {
                out.append(f.name).append(' ').append(gauges.get(f.name).getAsLong()).append('\n');
                continue;
            }
            for (Map.Entry<String, Object> s : new TreeMap<>(f.series).entrySet()) {
                if (s.getValue() instanceof LongAdder c) {
                    out.append(f.name).append(braces(s.getKey())).append(' ').append(c.sum()).append('\n');
                } else {
                    ((Histogram) s.getValue()).render(out, f.name, s.getKey(), f.buckets);
                }
            }
        }
        return out.toString();
    }

    private Family family(String name, String help, String type, double[] buckets) {
        return families.computeIfAbsent(name, n -> new Family(n, help, type, buckets));
    }

    private record Family(String name, String help, String type, double[] buckets, Map<String, Object> series) {
        Family(String name, String help, String type, double[] buckets) {
            this(name, help, type, buckets, new ConcurrentHashMap<>());
        }
    }

    private static final class Histogram {
        private final LongAdder[] counts; // per bucket, not cumulative; the last one is +Inf
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(int buckets) {
            counts = new LongAdder[buckets + 1];
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }

        void observe(double[] bounds, double value) {
            int i = 0;
            while (i < bounds.length && value > bounds[i]) i++;
            counts[i].increment();
            sum.add(value);
            count.increment();
        }

        void render(StringBuilder out, String name, String labels, double[] bounds) {
            long cumulative = 0;
            for (int i = 0; i <= bounds.length; i++) {
                cumulative += counts[i].sum();
                String le = "le=\"" + (i < bounds.length ? bound(bounds[i]) : "+Inf") + "\"";
                out.append(name).append("_bucket").append(braces(labels.isEmpty() ? le : labels + "," + le)).append(' ')
                        .append(cumulative).append('\n');
            }
            out.append(name).append("_sum").append(braces(labels)).append(' ').append(number(sum.sum())).append('\n');
            out.append(name).append("_count").append(braces(labels)).append(' ').append(count.sum()).append('\n');
        }
    }

    /** {@code route="/embed",method="single"} from alternating names and values. */
    private static String labelText(String... labels) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i + 1 < labels.length; i += 2) {
            String value = labels[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
            parts.add(labels[i] + "=\"" + value + "\"");
        }
        return String.join(",", parts);
    }

    private static String braces(String labels) {
        return labels.isEmpty() ? "" : "{" + labels + "}";
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** A bucket's bound to 6 significant digits: 1.5E-5, not 1.5000000000000002E-5. */
    private static String bound(double v) {
        return number(new java.math.BigDecimal(v).round(new java.math.MathContext(6)).doubleValue());
    }

    private static double[] geometric(double first, double factor, int n) {
        double[] b = new double[n];
        for (int i = 0; i < n; i++) b[i] = i == 0 ? first : b[i - 1] * factor;
        return b;
    }
}
