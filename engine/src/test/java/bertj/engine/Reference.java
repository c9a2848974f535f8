package bertj.engine;

import bertj.fixtures.Fixtures;
import bertj.loader.SafetensorsFile;
import bertj.loader.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reference outputs produced with Hugging Face (see the fixtures' README), read from the shared test fixtures. */
final class Reference implements AutoCloseable {
    final Path modelDir;
    private final SafetensorsFile file;

    Reference(String model) {
        modelDir = Fixtures.model(model);
        file = SafetensorsFile.open(modelDir.resolve("reference.safetensors"));
    }

    List<String> batches() {
        List<String> batches = new ArrayList<>();
        for (int b = 0; file.find("b" + b + ".input_ids").isPresent(); b++) batches.add("b" + b);
        return batches;
    }

    boolean has(String name) {
        return file.find(name).isPresent();
    }

    BertInput input(String batch) {
        Tensor ids = file.tensor(batch + ".input_ids");
        int b = (int) ids.shape()[0], s = (int) ids.shape()[1];
        return new BertInput(b, s, ints(ids), ints(file.tensor(batch + ".token_type_ids")), ints(file.tensor(batch + ".attention_mask")));
    }

    float[] floats(String name) {
        return file.tensor(name).toFloatArray();
    }

    long[] shape(String name) {
        return file.tensor(name).shape();
    }

    private static int[] ints(Tensor t) {
        long[] values = t.toLongArray();
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Math.toIntExact(values[i]);
        return out;
    }

    /** Largest |expected - actual| over a flattened [batch][seq][hidden] array. */
    static double maxAbsDiff(float[] expected, float[][][] actual) {
        double max = 0;
        int i = 0;
        for (float[][] seq : actual) for (float[] row : seq) for (float v : row) max = Math.max(max, Math.abs(expected[i++] - v));
        if (i != expected.length) throw new AssertionError("size mismatch: expected " + expected.length + " values, got " + i);
        return max;
    }

    static double maxAbsDiff(float[] expected, float[][] actual) {
        double max = 0;
        int i = 0;
        for (float[] row : actual) for (float v : row) max = Math.max(max, Math.abs(expected[i++] - v));
        if (i != expected.length) throw new AssertionError("size mismatch: expected " + expected.length + " values, got " + i);
        return max;
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }

    @Override
    public void close() {
        file.close();
    }
}
