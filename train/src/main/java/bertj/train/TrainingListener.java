package bertj.train;

/** What a training run reports as it goes; every method does nothing unless overridden. */
public interface TrainingListener {
    TrainingListener NONE = new TrainingListener() {
    };

    /** Something the user should know, such as texts cut to the model's length. */
    default void warning(String message) {
    }

    /** Features computed for {@code done} of {@code total} examples of {@code what} (the data set's name). */
    default void encoded(String what, int done, int total) {
    }

    /** {@code done} of the {@code total} examples of epoch {@code epoch} trained on. */
    default void trained(int epoch, int done, int total) {
    }

    /** An epoch is over. */
    default void epochEnded(EpochResult result) {
    }
}
