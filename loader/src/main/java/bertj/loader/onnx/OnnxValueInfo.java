package bertj.loader.onnx;

import java.util.List;

/**
 * A graph input or output ({@code ValueInfoProto}) of tensor type: its element type (null when
 * not a tensor) and its shape, each dimension given as its size or its symbolic name ("batch_size").
 */
public record OnnxValueInfo(String name, OnnxDataType elementType, List<String> shape) {
}
