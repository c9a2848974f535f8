package bertj.loader.onnx;

import java.util.List;

/**
 * An {@code AttributeProto}. Only the field its {@code type} names is meaningful; graph-valued
 * attributes (control flow) are kept as their type only.
 */
public record OnnxAttribute(String name, Type type, float f, long i, String s, OnnxTensor t,
                            List<Float> floats, List<Long> ints, List<String> strings) {

    /** {@code AttributeProto.AttributeType}. */
    public enum Type {
        UNDEFINED, FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS,
        SPARSE_TENSOR, SPARSE_TENSORS, TYPE_PROTO, TYPE_PROTOS;

        static Type ofCode(int code) {
            return code >= 0 && code < values().length ? values()[code] : UNDEFINED;
        }
    }

    @Override
    public String toString() {
        return name + "=" + switch (type) {
            case FLOAT -> Float.toString(f);
            case INT -> Long.toString(i);
            case STRING -> '"' + s + '"';
            case TENSOR -> t.toString();
            case FLOATS -> floats.toString();
            case INTS -> ints.toString();
            case STRINGS -> strings.toString();
            default -> "<" + type + ">";
        };
    }
}
