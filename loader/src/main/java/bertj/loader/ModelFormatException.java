package bertj.loader;

/**
 * A model file or directory is missing, corrupt or inconsistent. The message names the file, the tensor or
 * field, and the problem, so that it can be shown to a user as it is.
 */
public class ModelFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
