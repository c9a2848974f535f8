package bertj.train;

import java.util.ArrayList;
import java.util.List;

/** Small labeled sets for the tests, on the tiny reference models. */
final class TrainData {
    private TrainData() {
    }

    static final List<String> POSITIVE = List.of("What a wonderful film, I loved it.", "A great and happy day.",
            "The food was delicious and the staff were kind.", "Brilliant acting and a beautiful story.",
            "I am so glad we came here.", "An excellent book, warmly recommended.");
    static final List<String> NEGATIVE = List.of("A terrible, boring film.", "The worst day of my life.",
            "The food was cold and the staff were rude.", "Awful acting and a stupid story.",
            "I regret ever coming here.", "A dreadful book, avoid it.");
    static final List<String> NEUTRAL = List.of("The film lasts two hours.", "The shop opens at nine.",
            "The report has twelve pages.", "It is a book about trains.");

    /** Positive, negative and neutral texts, interleaved. */
    static List<TextExample> sentiment() {
        List<TextExample> out = new ArrayList<>();
        for (int i = 0; i < POSITIVE.size(); i++) {
            out.add(TextExample.labeled(POSITIVE.get(i), null, "positive"));
            out.add(TextExample.labeled(NEGATIVE.get(i), null, "negative"));
            if (i < NEUTRAL.size()) out.add(TextExample.labeled(NEUTRAL.get(i), null, "neutral"));
        }
        return out;
    }

    /** Sentences with people (PER) and places (LOC) tagged in BIO. */
    static List<TaggedSentence> people() {
        return List.of(
                sentence("John Smith flew to Paris .", "B-PER I-PER O O B-LOC O"),
                sentence("Mary lives in New York .", "B-PER O O B-LOC I-LOC O"),
                sentence("In Berlin , Anna met Peter Brown .", "O B-LOC O B-PER O B-PER I-PER O"),
                sentence("The train from London was late .", "O O O B-LOC O O O"),
                sentence("Tom and Lisa drove to Rome yesterday .", "B-PER O B-PER O O B-LOC O O"),
                sentence("Nobody was there .", "O O O O"),
                sentence("Alice Cooper visited Madrid and Lisbon .", "B-PER I-PER O B-LOC O B-LOC O"),
                sentence("We saw David in San Francisco .", "O O B-PER O B-LOC I-LOC O"));
    }

    static TaggedSentence sentence(String words, String tags) {
        return new TaggedSentence(List.of(words.split(" ")), List.of(tags.split(" ")));
    }
}
