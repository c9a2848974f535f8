package bertj.train;

/**
 * What a sequence classification head is trained for, as {@code PretrainedConfig.problem_type} names it, with the
 * loss {@code BertForSequenceClassification} computes for it.
 */
public enum ProblemType {
    /** One label per text: softmax and cross-entropy. */
    SINGLE_LABEL("single_label_classification", Loss.CROSS_ENTROPY),
    /** Any number of labels per text: a sigmoid per label and binary cross-entropy. */
    MULTI_LABEL("multi_label_classification", Loss.BINARY_CROSS_ENTROPY),
    /** One number per text: the raw logit and the mean squared error. */
    REGRESSION("regression", Loss.MEAN_SQUARED_ERROR);

    private final String configName;
    private final Loss loss;

    ProblemType(String configName, Loss loss) {
        this.configName = configName;
        this.loss = loss;
    }

    /** Its name in config.json's {@code problem_type}. */
    public String configName() {
        return configName;
    }

    Loss loss() {
        return loss;
    }
}
