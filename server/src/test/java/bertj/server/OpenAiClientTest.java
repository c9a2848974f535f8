package bertj.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import bertj.engine.Bert;
import bertj.engine.Pooling;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * langchain4j's OpenAI embedding model, a client written elsewhere, against {@code /v1/embeddings}: the vectors it
 * decodes are the Java API's, bit for bit.
 */
class OpenAiClientTest {
    @Test
    @Timeout(60)
    void langchain4jsOpenAiClientGetsTheInProcessVectors() throws Exception {
        List<String> texts = List.of("A man is playing a guitar.", "Someone is making music.", "東京 über alles");
        try (Bert bert = Bert.load(TestModels.embedder());
             Server server = Server.start(bert, Server.Options.defaults().withPort(0))) {
            OpenAiEmbeddingModel client = OpenAiEmbeddingModel.builder()
                    .baseUrl(server.uri().resolve("/v1").toString())
                    .apiKey("unused")
                    .modelName("tiny-bert")
                    .build();
            List<Embedding> got = client.embedAll(texts.stream().map(TextSegment::from).toList()).content();
            assertEquals(texts.size(), got.size());
            float[][] expected = bert.embed(texts, Pooling.valueOf(bert.defaultPooling().mode().name()), true);
            for (int i = 0; i < texts.size(); i++) assertArrayEquals(expected[i], got.get(i).vector(), texts.get(i));
        }
    }
}
