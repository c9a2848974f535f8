package bertj.loader;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The tensor element types bertj reads, with their safetensors spelling. */
public enum DType {
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    /** int8: the Linear weights of a model quantized by {@code bertj quantize}, each with its scales. */
    I8(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype string of a safetensors header (the enum names match it). */
    public String safetensorsName() {
        return name();
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * Parses a safetensors dtype string.
     *
     * @throws ModelFormatException naming the dtype when bertj does not support it (e.g. F64, I8, BOOL)
     */
    public static DType fromSafetensors(String code) {
        for (DType d : values()) {
            if (d.name().equals(code)) return d;
        }
        throw new ModelFormatException("unsupported dtype \"" + code + "\" (supported: " + supportedList() + ")");
    }

    /** As {@link #fromSafetensors(String)}, with the tensor and file named in the error. */
    public static DType fromSafetensors(String code, String tensorName, Path file) {
        try {
            return fromSafetensors(code);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file + ": tensor \"" + tensorName + "\": " + e.getMessage());
        }
    }

    private static String supportedList() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
