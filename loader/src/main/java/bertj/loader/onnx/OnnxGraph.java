package bertj.loader.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code GraphProto}: nodes in file order (ONNX requires topological order), initializers by name,
 * inputs and outputs; indexed by value name so a pass can walk from a value to its producer and consumers.
 */
public final class OnnxGraph {
    private final String name;
    private final List<OnnxNode> nodes;
    private final Map<String, OnnxTensor> initializers;
    private final List<OnnxValueInfo> inputs;
    private final List<OnnxValueInfo> outputs;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Map<String, List<OnnxNode>> consumers = new HashMap<>();

    public OnnxGraph(String name, List<OnnxNode> nodes, List<OnnxTensor> initializers,
                     List<OnnxValueInfo> inputs, List<OnnxValueInfo> outputs) {
        this.name = name;
        this.nodes = List.copyOf(nodes);
        Map<String, OnnxTensor> byName = new LinkedHashMap<>();
        for (OnnxTensor t : initializers) byName.put(t.name(), t);
        this.initializers = Collections.unmodifiableMap(byName);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        for (OnnxNode node : nodes) {
            for (String out : node.outputs()) if (!out.isEmpty()) producers.put(out, node);
            for (String in : node.inputs()) if (!in.isEmpty()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(node);
        }
    }

    public String name() {
        return name;
    }

    public List<OnnxNode> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, OnnxTensor> initializers() {
        return initializers;
    }

    public List<OnnxValueInfo> inputs() {
        return inputs;
    }

    public List<OnnxValueInfo> outputs() {
        return outputs;
    }

    /** The node that computes the value, or null for graph inputs, initializers and unknown names. */
    public OnnxNode producer(String value) {
        return producers.get(value);
    }

    /** The nodes that read the value, in graph order. */
    public List<OnnxNode> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** The value as a constant: an initializer or the output of a {@code Constant} node; null otherwise. */
    public OnnxTensor constant(String value) {
        OnnxTensor init = initializers.get(value);
        if (init != null) return init;
        OnnxNode node = producers.get(value);
        if (node != null && node.opType().equals("Constant") && node.attribute("value") != null) {
            return node.attribute("value").t();
        }
        return null;
    }
}
