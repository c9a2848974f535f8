package bertj.spark;

import bertj.engine.Bert;
import bertj.tokenizer.Encoding;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * One partition's rows with the transformer's columns added, in input order. The rows are read a window at a time;
 * a window's texts are tokenized, sorted by length and packed into forwards of at most maxBatchTokens tokens. A null,
 * empty or unusable text gets null outputs and, when asked, its reason in the error column; it never fails the task.
 */
final class PartitionRunner implements Iterator<Row> {
    /** Rows read, tokenized and run together: enough for a few full forwards, little memory. */
    static final int WINDOW = 1024;

    /** What the executors need, shipped with each task. */
    record Settings(String model, String precision, int maxBatchTokens, int textIndex, boolean errorColumn, RowModel rowModel)
            implements Serializable {
    }

    private final Settings settings;
    private final Iterator<Row> rows;
    private final int threads;
    private Bert bert;
    private Iterator<Row> window = List.<Row>of().iterator();

    PartitionRunner(Settings settings, Iterator<Row> rows) {
        this.settings = settings;
        this.rows = rows;
        TaskContext task = TaskContext.get();
        this.threads = task == null ? 1 : Math.max(1, task.cpus());
    }

    @Override
    public boolean hasNext() {
        if (!window.hasNext() && rows.hasNext()) window = nextWindow().iterator();
        return window.hasNext();
    }

    @Override
    public Row next() {
        if (!hasNext()) throw new NoSuchElementException();
        return window.next();
    }

    private List<Row> nextWindow() {
        List<Row> in = new ArrayList<>(WINDOW);
        while (in.size() < WINDOW && rows.hasNext()) in.add(rows.next());
        if (bert == null) bert = SharedModels.get(settings.model(), settings.precision(), threads);
        RowModel model = settings.rowModel();
        int n = in.size();
        Encoding[] encodings = new Encoding[n];
        String[] errors = new String[n];
        List<Integer> usable = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row row = in.get(i);
            String text = row.isNullAt(settings.textIndex()) ? null : row.getString(settings.textIndex());
            if (text == null) {
                errors[i] = "the text is null";
            } else if (text.isBlank()) {
                errors[i] = "the text is empty";
            } else {
                try {
                    encodings[i] = model.encode(bert, text);
                    usable.add(i);
                } catch (RuntimeException e) {
                    errors[i] = e.getMessage() != null ? e.getMessage() : e.toString();
                }
            }
        }
        // Length-sorted batches: each sequence's result does not depend on its batch, only the forwards' sizes do.
        usable.sort(Comparator.comparingInt(i -> encodings[i].length()));
        Object[][] outputs = new Object[n][];
        for (int from = 0, to; from < usable.size(); from = to) {
            List<Encoding> batch = new ArrayList<>();
            int tokens = 0;
            for (to = from; to < usable.size(); to++) {
                int length = encodings[usable.get(to)].length();
                if (!batch.isEmpty() && tokens + length > settings.maxBatchTokens()) break;
                batch.add(encodings[usable.get(to)]);
                tokens += length;
            }
            Object[][] results = model.run(bert, batch);
            for (int b = 0; b < batch.size(); b++) outputs[usable.get(from + b)] = results[b];
        }
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(withOutputs(in.get(i), outputs[i], errors[i], model.width()));
        return out;
    }

    private Row withOutputs(Row row, Object[] outputs, String error, int width) {
        Object[] values = new Object[row.length() + width + (settings.errorColumn() ? 1 : 0)];
        for (int c = 0; c < row.length(); c++) values[c] = row.get(c);
        if (outputs != null) System.arraycopy(outputs, 0, values, row.length(), width);
        if (settings.errorColumn()) values[values.length - 1] = error;
        return RowFactory.create(values);
    }
}
