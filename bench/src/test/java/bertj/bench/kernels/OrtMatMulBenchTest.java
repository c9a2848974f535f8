package bertj.bench.kernels;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-MatMul graphs that {@code bench gemm --vs-onnxruntime} gives ONNX Runtime compute {@code X . W}. */
class OrtMatMulBenchTest {
    @Test
    void theGraphComputesXTimesEachWeight() throws OrtException {
        int m = 3, k = 5, n = 7, copies = 2;
        byte[] model = OrtMatMulBench.matMulModel(m, k, n, copies, new Random(4));
        // The weights the model holds, drawn again from the same seed.
        Random weights = new Random(4);
        float[][] w = new float[copies][k * n];
        for (float[] wc : w) for (int i = 0; i < wc.length; i++) wc[i] = weights.nextFloat() * 0.1f - 0.05f;
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.25f - 1;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {m, k});
             OrtSession.Result result = session.run(Map.of("x", input))) {
            for (int c = 0; c < copies; c++) {
                FloatBuffer y = ((OnnxTensor) result.get("y" + c).orElseThrow()).getFloatBuffer();
                for (int r = 0; r < m; r++) {
                    for (int j = 0; j < n; j++) {
                        double want = 0;
                        for (int i = 0; i < k; i++) want += (double) x[r * k + i] * w[c][i * n + j];
                        assertEquals(want, y.get(r * n + j), 1e-6, "copy " + c + " [" + r + ", " + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void printsALineEndingInGflops() throws OrtException {
        String line = OrtMatMulBench.run(32, 64, 64, 1, 1, 3);
        assertTrue(line.matches("onnxruntime .* MatMul m=32 k=64 n=64 threads=1: .* median GFLOP/s: [0-9.]+"), line);
    }
}
