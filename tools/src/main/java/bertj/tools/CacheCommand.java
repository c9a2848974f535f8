package bertj.tools;

import bertj.loader.DefaultModel;
import bertj.loader.Sizes;
import bertj.loader.hub.HubCache;
import bertj.loader.hub.HubSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/** {@code bertj cache}: what the Hugging Face cache and bertj's own cache hold, with sizes. */
@Command(name = "cache", description = {
        "List the models in the Hugging Face cache with their sizes and revisions, and",
        "what bertj's own cache holds (the converted default model, packed weights)."})
final class CacheCommand extends CliCommand {
    @Override
    public Integer call() throws IOException {
        PrintWriter out = out();
        HubCache hub = new HubCache(HubSettings.fromEnvironment().cache());
        out.println("Hugging Face cache: " + hub.root());
        List<HubCache.Entry> entries = hub.list();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("MODEL", "SIZE", "FILES", "REVISIONS"));
        long total = 0;
        for (HubCache.Entry e : entries) {
            String size = Sizes.decimal(e.bytes()) + (e.incompleteBytes() > 0
                    ? " (+" + Sizes.decimal(e.incompleteBytes()) + " incomplete)" : "");
            rows.add(List.of(e.repo(), size, Integer.toString(e.blobs()), revisions(e.refs(), e.snapshots())));
            total += e.bytes() + e.incompleteBytes();
        }
        if (entries.isEmpty()) out.println("(empty)");
        else table(out, rows);
        if (!entries.isEmpty()) out.println("total: " + entries.size() + (entries.size() == 1 ? " model, " : " models, ") + Sizes.decimal(total));

        Path own = DefaultModel.cacheRoot();
        out.println();
        out.println("bertj cache: " + own);
        List<List<String>> ownRows = new ArrayList<>();
        for (Path dir : List.of(own.resolve("models"), own.resolve("packed"))) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> children = Files.list(dir)) {
                for (Path p : children.sorted().toList()) {
                    if (p.getFileName().toString().startsWith(".")) continue;
                    ownRows.add(List.of(own.relativize(p).toString(), Sizes.decimal(size(p))));
                }
            }
        }
        if (ownRows.isEmpty()) out.println("(empty)");
        else table(out, ownRows);
        return Main.OK;
    }

    /** {@code main -> 1a2b3c4}, one per ref; a snapshot no ref names, by its commit alone. */
    private static String revisions(Map<String, String> refs, List<String> snapshots) {
        List<String> parts = new ArrayList<>();
        refs.forEach((ref, commit) -> parts.add(ref + " -> " + shortCommit(commit)));
        for (String s : snapshots) if (!refs.containsValue(s)) parts.add(shortCommit(s));
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    private static String shortCommit(String commit) {
        return commit.length() > 8 ? commit.substring(0, 8) : commit;
    }

    /** Bytes of the regular files under {@code p}, links not followed. */
    private static long size(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            long sum = 0;
            for (Path f : walk.toList()) if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) sum += Files.size(f);
            return sum;
        }
    }

    /** Columns padded to their widest cell, the last one not padded. */
    private static void table(PrintWriter out, List<List<String>> rows) {
        int columns = rows.getFirst().size();
        int[] width = new int[columns];
        for (List<String> row : rows) for (int c = 0; c < columns; c++) width[c] = Math.max(width[c], row.get(c).length());
        for (List<String> row : rows) {
            String line = java.util.stream.IntStream.range(0, columns)
                    .mapToObj(c -> c == columns - 1 ? row.get(c) : String.format("%-" + width[c] + "s", row.get(c)))
                    .collect(Collectors.joining("  "));
            out.println(line.stripTrailing());
        }
    }
}
