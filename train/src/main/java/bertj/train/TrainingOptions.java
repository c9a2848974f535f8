package bertj.train;

/**
 * How a head is trained: epochs over the training set, AdamW's learning rate and weight decay (on the weight, not
 * the bias, as transformers' Trainer groups them), the batch size, the seed of the initial weights and of each
 * epoch's shuffle, and early stopping: with {@code earlyStoppingPatience} N > 0 and an eval set, training stops
 * once the eval metric has not improved for N epochs, and the best epoch's head is kept.
 */
public record TrainingOptions(int epochs, double learningRate, int batchSize, long seed, double weightDecay,
        int earlyStoppingPatience) {
    public static final int DEFAULT_EPOCHS = 20, DEFAULT_BATCH_SIZE = 16;
    public static final double DEFAULT_LEARNING_RATE = 1e-2, DEFAULT_WEIGHT_DECAY = 0.01;
    public static final long DEFAULT_SEED = 42;

    /**
     * 20 epochs at 1e-2 in batches of 16, seed 42, weight decay 0.01, no early stopping. A head alone takes a larger
     * learning rate than fine-tuning the whole model (transformers' 5e-5): at 1e-3 the Reuters head of the README was
     * still at the majority class after 20 epochs.
     */
    public static final TrainingOptions DEFAULTS = new TrainingOptions(DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_BATCH_SIZE,
            DEFAULT_SEED, DEFAULT_WEIGHT_DECAY, 0);

    public TrainingOptions {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("the learning rate must be a positive number, got " + learningRate);
        }
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("the weight decay must be a number >= 0, got " + weightDecay);
        }
        if (earlyStoppingPatience < 0) {
            throw new IllegalArgumentException("the early stopping patience must be >= 0 (0: off), got " + earlyStoppingPatience);
        }
    }

    public TrainingOptions withEpochs(int epochs) {
        return new TrainingOptions(epochs, learningRate, batchSize, seed, weightDecay, earlyStoppingPatience);
    }

    public TrainingOptions withLearningRate(double learningRate) {
        return new TrainingOptions(epochs, learningRate, batchSize, seed, weightDecay, earlyStoppingPatience);
    }

    public TrainingOptions withBatchSize(int batchSize) {
        return new TrainingOptions(epochs, learningRate, batchSize, seed, weightDecay, earlyStoppingPatience);
    }

    public TrainingOptions withSeed(long seed) {
        return new TrainingOptions(epochs, learningRate, batchSize, seed, weightDecay, earlyStoppingPatience);
    }

    public TrainingOptions withWeightDecay(double weightDecay) {
        return new TrainingOptions(epochs, learningRate, batchSize, seed, weightDecay, earlyStoppingPatience);
    }

    public TrainingOptions withEarlyStoppingPatience(int epochs) {
        return new TrainingOptions(this.epochs, learningRate, batchSize, seed, weightDecay, epochs);
    }
}
