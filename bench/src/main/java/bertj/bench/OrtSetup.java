package bertj.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime as every bench sets it up, and what it needs to know of a BERT graph. Kept apart from the
 * classes that print JSON, so that the cold one-shot ({@link OrtOneShot}) starts without Jackson.
 */
public final class OrtSetup {
    /** The inputs a BERT graph may take; bertj's export takes all three, some exports leave token_type_ids out. */
    static final List<String> INPUTS = List.of("input_ids", "attention_mask", "token_type_ids");

    private OrtSetup() {
    }

    /**
     * ONNX Runtime as bertj is compared with it: {@code threads} intra-op threads, one inter-op thread, sequential
     * execution, graph optimization ALL. The caller closes the options.
     */
    public static OrtSession.SessionOptions options(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /** @throws IllegalArgumentException naming the first input that is not one of {@link #INPUTS} */
    static void checkInputs(Path file, OrtSession graph) throws OrtException {
        for (String input : graph.getInputNames()) {
            if (!INPUTS.contains(input)) {
                throw new IllegalArgumentException(file + ": takes an input named \"" + input + "\"; a BERT graph takes "
                        + String.join(", ", INPUTS));
            }
        }
    }

    /**
     * {@code last_hidden_state} by name, else the only float output of rank 3 (the all-MiniLM-L6-v2 export
     * calls it {@code output_0}).
     */
    static String lastHiddenStateName(Path file, OrtSession graph) throws OrtException {
        Map<String, NodeInfo> outputs = graph.getOutputInfo();
        if (outputs.containsKey("last_hidden_state")) return "last_hidden_state";
        List<String> rank3 = new ArrayList<>(); // a loop, not a stream: lambdas cost a cold JVM tens of ms
        for (Map.Entry<String, NodeInfo> e : outputs.entrySet()) {
            if (e.getValue().getInfo() instanceof TensorInfo t && t.getShape().length == 3) rank3.add(e.getKey());
        }
        if (rank3.size() != 1) {
            throw new IllegalArgumentException(file + ": cannot tell which output is last_hidden_state (outputs "
                    + outputs.keySet() + ")");
        }
        return rank3.getFirst();
    }
}
