package bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * ONNX Runtime's cold one-shot, the counterpart of {@code bertj embed default hello} in {@code bench oneshot}:
 * {@code java -cp bertj-bench.jar bertj.bench.OrtOneShot FILE.onnx THREADS IDS} starts, opens the graph
 * ({@link OrtSetup#options}), runs the token ids (comma separated; the tokenizer is left out) once as a batch of
 * one, prints the mean of last_hidden_state over the tokens, L2-normalised, as a JSON array, and exits.
 *
 * <p>Written for a fast start, as a careful user would: no Jackson, no lambdas or streams, no string
 * concatenation on the way (each costs a cold JVM tens of milliseconds of bootstrapping).
 */
public final class OrtOneShot {
    private OrtOneShot() {
    }

    public static void main(String[] args) throws OrtException {
        if (args.length != 3) {
            System.err.println("usage: java -cp bertj-bench.jar bertj.bench.OrtOneShot FILE.onnx THREADS IDS (e.g. 101,7592,102)");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        String[] parts = args[2].split(",");
        long[] ids = new long[parts.length];
        long[] mask = new long[parts.length];
        long[] types = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            ids[i] = Long.parseLong(parts[i].trim());
            mask[i] = 1;
        }
        System.out.println(format(embed(file, threads, ids, mask, types)));
    }

    /** The mean over the tokens of last_hidden_state, L2-normalised. */
    static float[] embed(Path file, int threads, long[] ids, long[] mask, long[] types) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = OrtSetup.options(threads);
             OrtSession graph = env.createSession(file.toString(), options)) {
            OrtSetup.checkInputs(file, graph);
            String output = OrtSetup.lastHiddenStateName(file, graph);
            long[] shape = {1, ids.length};
            Map<String, OnnxTensor> inputs = new HashMap<>();
            try {
                for (String name : graph.getInputNames()) {
                    long[] values = name.equals("input_ids") ? ids : name.equals("attention_mask") ? mask : types;
                    inputs.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
                }
                try (OrtSession.Result result = graph.run(inputs)) {
                    FloatBuffer hidden = ((OnnxTensor) result.get(output).orElseThrow()).getFloatBuffer();
                    int width = hidden.remaining() / ids.length;
                    float[] mean = new float[width];
                    double norm = 0;
                    for (int i = 0; i < width; i++) {
                        double sum = 0;
                        for (int t = 0; t < ids.length; t++) sum += hidden.get(t * width + i);
                        mean[i] = (float) (sum / ids.length);
                        norm += (double) mean[i] * mean[i];
                    }
                    double scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
                    for (int i = 0; i < width; i++) mean[i] = (float) (mean[i] * scale);
                    return mean;
                }
            } finally {
                for (OnnxTensor t : inputs.values()) t.close();
            }
        }
    }

    private static String format(float[] vector) {
        StringBuilder s = new StringBuilder(vector.length * 12).append('[');
        for (int i = 0; i < vector.length; i++) {
            if (i > 0) s.append(',');
            s.append(vector[i]);
        }
        return s.append(']').toString();
    }
}
