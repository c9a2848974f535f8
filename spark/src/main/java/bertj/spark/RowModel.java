package bertj.spark;

import bertj.engine.Bert;
import bertj.tokenizer.Encoding;
import java.io.Serializable;
import java.util.List;

/** What a transformer computes from each text, on the executors: shipped there with the task. */
interface RowModel extends Serializable {
    /** The encoding of one text (not null, not blank); an exception here becomes that row's error. */
    Encoding encode(Bert bert, String text);

    /** The output columns of each encoding of one packed batch, in the batch's order. */
    Object[][] run(Bert bert, List<Encoding> batch);

    /** How many output columns {@link #run} gives per row. */
    int width();
}
