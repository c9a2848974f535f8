package bertj.loader.onnx;

import java.util.Map;

/** A {@code ModelProto}: format version, producer, operator set versions by domain ("" = ai.onnx) and the graph. */
public record OnnxModel(long irVersion, String producerName, String producerVersion, Map<String, Long> opsetImports,
                        OnnxGraph graph) {
}
