package bertj.bench.kernels;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import bertj.bench.OrtSetup;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * ONNX Runtime's MatMul (MLAS) on the shape {@link GemmBench} times: a graph of {@code copies} MatMul nodes
 * {@code Y_c = X . W_c}, each with its own {@code [K, N]} weight, so that one run streams as many weight bytes
 * as GemmBench cycles through. Time per MatMul = run time / copies. Same output format: one line ending in
 * {@code GFLOP/s: X} (median), with the best run.
 */
final class OrtMatMulBench {
    private OrtMatMulBench() {}

    static String run(int m, int k, int n, int threads, int weightsMb, int samples) throws OrtException {
        long weightBytes = 4L * n * k;
        int copies = (int) Math.max(1, Math.min(64, ((long) weightsMb << 20) / weightBytes));
        byte[] model = matMulModel(m, k, n, copies, new Random(1));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = OrtSetup.options(threads)) {
            try (OrtSession session = env.createSession(model, options)) {
                float[] x = new float[m * k];
                Random random = new Random(2);
                for (int i = 0; i < x.length; i++) x[i] = random.nextFloat() * 2 - 1;
                try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {m, k})) {
                    Map<String, OnnxTensor> inputs = Map.of("x", input);
                    double flops = 2.0 * m * k * n;
                    int runsPerSample = (int) Math.max(1, Math.min(1_000, 20e-3 * 50e9 / (flops * copies)));
                    double[] seconds = GemmBench.sortedSeconds(samples, runsPerSample, () -> {
                        try (OrtSession.Result ignored = session.run(inputs)) {
                            // outputs freed at once
                        }
                    });
                    for (int i = 0; i < samples; i++) seconds[i] /= copies; // per MatMul node
                    double median = seconds[samples / 2];
                    return String.format(Locale.ROOT,
                            "onnxruntime %s MatMul m=%d k=%d n=%d threads=%d: %.1f us, weights %.2f MB x %d nodes, "
                                    + "streamed at %.1f GB/s, best %.1f GFLOP/s, median GFLOP/s: %.1f",
                            env.getVersion(), m, k, n, threads, median * 1e6, weightBytes / 1e6, copies,
                            weightBytes / median / 1e9, flops / seconds[0] / 1e9, flops / median / 1e9);
                }
            }
        }
    }

    /** The ONNX model (protobuf bytes): input x [m, k], initializers w0.. [k, n], outputs y_c = MatMul(x, w_c). */
    static byte[] matMulModel(int m, int k, int n, int copies, Random random) {
        Proto graph = new Proto();
        for (int c = 0; c < copies; c++) {
            graph.message(1, new Proto().string(1, "x").string(1, "w" + c).string(2, "y" + c).string(3, "matmul" + c)
                    .string(4, "MatMul"));
        }
        graph.string(2, "matmul");
        for (int c = 0; c < copies; c++) {
            ByteBuffer data = ByteBuffer.allocate(4 * k * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < k * n; i++) data.putFloat(random.nextFloat() * 0.1f - 0.05f);
            graph.message(5, new Proto().varint(1, k).varint(1, n).varint(2, 1).string(8, "w" + c).bytes(9, data.array()));
        }
        graph.message(11, valueInfo("x", m, k));
        for (int c = 0; c < copies; c++) graph.message(12, valueInfo("y" + c, m, n));
        return new Proto().varint(1, 8).string(2, "bertj").message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 17)).toByteArray();
    }

    private static Proto valueInfo(String name, long rows, long cols) {
        Proto shape = new Proto().message(1, new Proto().varint(1, rows)).message(1, new Proto().varint(1, cols));
        Proto tensorType = new Proto().varint(1, 1).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** Just enough protobuf writing for an ONNX model: varints and length-delimited fields. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            writeVarint((long) field << 3);
            writeVarint(value);
            return this;
        }

        Proto bytes(int field, byte[] value) {
            writeVarint((long) field << 3 | 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private void writeVarint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) ((value & 0x7F) | 0x80));
                value >>>= 7;
            }
            out.write((int) value);
        }
    }
}
