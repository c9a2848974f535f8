package bertj.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One epoch: its number (from 1), the mean training loss of its steps, the eval metrics as transformers' Trainer
 * names them ({@code eval_loss}, {@code eval_accuracy}, {@code eval_f1}, ...; empty without an eval set), and
 * the seconds it took.
 */
public record EpochResult(int epoch, double loss, Map<String, Double> eval, double seconds) {
    public EpochResult {
        eval = Collections.unmodifiableMap(new LinkedHashMap<>(eval)); // in the order given
    }
}
