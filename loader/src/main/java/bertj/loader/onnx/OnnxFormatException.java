package bertj.loader.onnx;

import bertj.loader.ModelFormatException;

/** An ONNX file is truncated, corrupt, or uses a feature the reader or the converter does not support. */
public final class OnnxFormatException extends ModelFormatException {
    private static final long serialVersionUID = 1L;

    public OnnxFormatException(String message) {
        super(message);
    }
}
