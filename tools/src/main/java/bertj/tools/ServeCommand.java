package bertj.tools;

import bertj.engine.Bert;
import bertj.loader.DefaultModel;
import bertj.server.Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import sun.misc.Signal;

/**
 * {@code bertj serve MODEL}: an HTTP server compatible with text-embeddings-inference and OpenAI's embeddings API
 * ({@link Server}). Prints one line with its address once it answers; SIGTERM or SIGINT lets the requests in flight
 * finish, then exits 0.
 */
@Command(name = "serve", description = {
        "Serve the model over HTTP: text-embeddings-inference's routes (/embed, /rerank, /predict, ...) and OpenAI's /v1/embeddings.",
        "Prints 'listening on http://HOST:PORT' when ready; SIGTERM or Ctrl-C finishes the requests in flight, then exits."})
final class ServeCommand extends CliCommand {
    @Mixin
    ModelToRun model;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port to listen on, 0 for any free one (default: 8080).")
    int port;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "16384", description = "Most tokens per batch (default: 16384).")
    int maxBatchTokens;

    @Option(names = "--max-client-batch-size", paramLabel = "N", defaultValue = "32", description = "Most inputs per request (default: 32).")
    int maxClientBatchSize;

    @Option(names = "--max-concurrent-requests", paramLabel = "N", defaultValue = "512",
            description = "Most inputs in progress at once; more are refused with 429 (default: 512).")
    int maxConcurrentRequests;

    @Option(names = "--payload-limit", paramLabel = "BYTES", defaultValue = "2000000",
            description = "Largest request body in bytes (default: 2000000).")
    int payloadLimit;

    @Option(names = "--auto-truncate", description = "Truncate inputs longer than the model takes when a request does not say.")
    boolean autoTruncate;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require the header 'Authorization: Bearer KEY' (health and metrics stay open).")
    String apiKey;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Server.Options options;
        try { // bad options are refused before the model loads
            options = new Server.Options(host, port, maxBatchTokens, maxClientBatchSize, maxConcurrentRequests, payloadLimit, autoTruncate,
                    apiKey, modelId(model.model));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (Bert bert = model.load();
             Server server = Server.start(bert, options)) {
            onSignals(stop);
            // any other way out of the JVM (SIGHUP, System.exit) drains too
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bertj-serve-shutdown"));
            out().println("listening on " + server.uri());
            out().flush();
            stop.await();
            err().println("bertj serve: stopping; finishing the requests in flight");
        }
        return Main.OK;
    }

    /**
     * SIGTERM and SIGINT end the wait, so that the server drains and the command returns 0: left to the JVM, they would
     * exit with 143 or 130. A second one, while draining, stops at once. sun.misc.Signal is one of the critical internal
     * APIs that JEP 260 keeps accessible (module jdk.unsupported); javac still warns about it.
     */
    private static void onSignals(CountDownLatch stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> {
                if (stop.getCount() == 0) Runtime.getRuntime().halt(128 + signal.getNumber());
                stop.countDown();
            });
        }
    }

    /** The name /info and /v1/embeddings give the model: a Hub name as given, a directory's own name. */
    static String modelId(String model) {
        if (model.equals("default")) return "sentence-transformers/" + DefaultModel.NAME;
        try {
            Path dir = Path.of(model);
            if (Files.isDirectory(dir) && dir.toAbsolutePath().normalize().getFileName() != null) {
                return dir.toAbsolutePath().normalize().getFileName().toString();
            }
        } catch (RuntimeException e) {
            // not a path: a Hub name
        }
        return model;
    }
}
