package bertj.tools;

import bertj.loader.OutputDirectory;
import bertj.train.EpochResult;
import bertj.train.SequenceClassifierTrainer;
import bertj.train.TokenClassifierTrainer;
import bertj.train.TrainedHead;
import bertj.train.TrainingListener;
import bertj.train.TrainingOptions;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/**
 * {@code bertj train classify|ner MODEL --train FILE [--eval FILE] --out DIR}: a head trained on the frozen encoder
 * ({@link bertj.train}), written as a Hugging Face checkpoint that {@code classify} / {@code ner} and transformers
 * load. One JSON line per epoch on stdout ({@code epoch}, {@code loss}, the eval metrics, {@code seconds}); the
 * progress of the encoding and of each epoch on stderr. {@code --out} must not exist or be empty, and appears only
 * once complete.
 */
@Command(name = "train", description = {"Train a classifier or a tagger head on a frozen encoder, saved as a Hugging Face checkpoint.",
        "'bertj train classify --help' and 'bertj train ner --help' give the input formats."},
        subcommands = {TrainCommand.Classify.class, TrainCommand.Ner.class})
final class TrainCommand extends CliCommand {
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "give what to train: classify or ner");
    }

    @Command(name = "classify", mixinStandardHelpOptions = true, description = {
            "Train BertForSequenceClassification's head on the pooler output.",
            "Lines of --train and --eval: {\"text\": ..., \"text_pair\": ..., \"label\": ...}: a label name, a list of names "
                    + "(multi-label) or a number (regression)."})
    static final class Classify extends Run {
        @Override
        TrainedHead train(Path model, TrainingOptions options, TrainingListener listener) throws IOException {
            return SequenceClassifierTrainer.train(model, trainFile, evalFile, options, listener);
        }
    }

    @Command(name = "ner", mixinStandardHelpOptions = true, description = {
            "Train BertForTokenClassification's head on the last hidden state, each word's tag on its first sub-token.",
            "Lines of --train and --eval: {\"tokens\": [...], \"tags\": [...]}, BIO tags (O, B-TYPE, I-TYPE)."})
    static final class Ner extends Run {
        @Override
        TrainedHead train(Path model, TrainingOptions options, TrainingListener listener) throws IOException {
            return TokenClassifierTrainer.train(model, trainFile, evalFile, options, listener);
        }
    }

    /** The options and the run both tasks share. */
    abstract static class Run extends CliCommand {
        @Parameters(index = "0", paramLabel = "MODEL", description = ModelArgument.HELP)
        String model;

        @Option(names = "--train", required = true, paramLabel = "FILE", description = "The training examples, JSON Lines.")
        Path trainFile;

        @Option(names = "--eval", paramLabel = "FILE", description = "Examples to evaluate on after each epoch, JSON Lines.")
        Path evalFile;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The checkpoint to write; must not exist, or be empty.")
        Path out;

        @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default " + TrainingOptions.DEFAULT_EPOCHS + ").")
        Integer epochs;

        @Option(names = "--lr", paramLabel = "X", description = "AdamW's learning rate (default " + TrainingOptions.DEFAULT_LEARNING_RATE + ").")
        Double learningRate;

        @Option(names = "--batch", paramLabel = "N", description = "Examples per step (default " + TrainingOptions.DEFAULT_BATCH_SIZE + ").")
        Integer batchSize;

        @Option(names = "--seed", paramLabel = "S", description = "Seed of the initial weights and the shuffles (default " + TrainingOptions.DEFAULT_SEED + ").")
        Long seed;

        @Option(names = "--weight-decay", paramLabel = "X", description = "AdamW's weight decay on the weight (default " + TrainingOptions.DEFAULT_WEIGHT_DECAY + ").")
        Double weightDecay;

        @Option(names = "--early-stopping", paramLabel = "N", description = "Stop once the eval metric has not improved "
                + "for N epochs, and keep the best epoch's head (needs --eval; default off).")
        Integer patience;

        @Option(names = "--quiet", description = "No progress on stderr.")
        boolean quiet;

        abstract TrainedHead train(Path model, TrainingOptions options, TrainingListener listener) throws IOException;

        @Override
        public Integer call() throws IOException {
            TrainingOptions options;
            try {
                options = options();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            if (options.earlyStoppingPatience() > 0 && evalFile == null) {
                throw new ParameterException(spec.commandLine(), "--early-stopping needs --eval");
            }
            Path source = ModelArgument.resolve(model);
            OutputDirectory.requireAbsentOrEmpty(out);
            long start = System.nanoTime();
            JsonGenerator json = JsonLines.generator(out());
            Listener listener = new Listener(json, options.epochs());
            TrainedHead head;
            try {
                head = train(source, options, listener);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } finally {
                listener.finishProgress();
            }
            head.save(out);
            double epochSeconds = head.epochs().stream().mapToDouble(EpochResult::seconds).sum();
            err().printf(Locale.ROOT, "bertj: wrote %s: %s, labels %s, %d epochs in %.1f s (loading and encoding %.1f s, "
                    + "epochs %.2f s)%n", out, head.task().architecture(), head.labels(), head.epochs().size(),
                    (System.nanoTime() - start) / 1e9, (listener.firstStep - start) / 1e9, epochSeconds);
            return Main.OK;
        }

        private TrainingOptions options() {
            TrainingOptions o = TrainingOptions.DEFAULTS;
            if (epochs != null) o = o.withEpochs(epochs);
            if (learningRate != null) o = o.withLearningRate(learningRate);
            if (batchSize != null) o = o.withBatchSize(batchSize);
            if (seed != null) o = o.withSeed(seed);
            if (weightDecay != null) o = o.withWeightDecay(weightDecay);
            if (patience != null) o = o.withEarlyStoppingPatience(patience);
            return o;
        }

        /** Warnings and progress on stderr, a JSON line per epoch on stdout. */
        private final class Listener implements TrainingListener {
            private final JsonGenerator json;
            private final int epochs;
            private Progress progress;
            private String task;
            /** When the first epoch started: the model is loaded and the features computed. */
            long firstStep;

            Listener(JsonGenerator json, int epochs) {
                this.json = json;
                this.epochs = epochs;
            }

            @Override
            public void warning(String message) {
                finishProgress();
                err().println("bertj: warning: " + message);
            }

            @Override
            public void encoded(String what, int done, int total) {
                show("encoding " + what, "texts", done, total);
            }

            @Override
            public void trained(int epoch, int done, int total) {
                if (firstStep == 0) firstStep = System.nanoTime();
                show("epoch " + epoch + "/" + epochs, "examples", done, total);
            }

            private void show(String task, String unit, int done, int total) {
                if (!task.equals(this.task)) {
                    finishProgress();
                    this.task = task;
                    progress = Progress.ofCount(err(), task, unit, total, quiet);
                }
                if (progress != null) progress.update(done, done);
            }

            void finishProgress() {
                if (progress != null) progress.finish();
                progress = null;
                task = null;
            }

            @Override
            public void epochEnded(EpochResult result) {
                finishProgress();
                try {
                    json.writeStartObject();
                    json.writeNumberField("epoch", result.epoch());
                    json.writeNumberField("loss", result.loss());
                    for (Map.Entry<String, Double> metric : result.eval().entrySet()) json.writeNumberField(metric.getKey(), metric.getValue());
                    json.writeNumberField("seconds", result.seconds());
                    json.writeEndObject();
                    JsonLines.endLine(json);
                    json.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
