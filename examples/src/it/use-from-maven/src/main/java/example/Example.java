package example;

import bertj.engine.Bert;
import java.util.List;

public class Example {
    public static void main(String[] args) {
        try (Bert bert = Bert.load("default")) { // all-MiniLM-L6-v2, converted on first use
            float[][] vectors = bert.embed(List.of("A man is playing a guitar.", "Someone is making music."));
            double similarity = bert.similarity("A man is playing a guitar.", "Someone is making music.");
            System.out.printf("%d dimensions, similarity %.4f%n", vectors[0].length, similarity);
        }
    }
}
