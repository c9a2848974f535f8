package bertj.loader.onnx;

import java.util.List;
import java.util.Map;

/** A {@code NodeProto}: one operator application. Empty input names mean "optional input omitted". */
public record OnnxNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, OnnxAttribute> attributes) {

    public OnnxAttribute attribute(String attributeName) {
        return attributes.get(attributeName);
    }

    @Override
    public String toString() {
        return opType + " '" + name + "' " + inputs + " -> " + outputs
                + (attributes.isEmpty() ? "" : " " + attributes.values());
    }
}
