package bertj.loader.hub;

import java.nio.file.Path;
import java.time.Duration;

/** Runs in a child JVM: fetches a model from the given endpoint into the given cache and prints its snapshot. */
public final class HubProbe {
    private HubProbe() {
    }

    public static void main(String[] args) {
        HubSettings settings = HubSettings.of(Path.of(args[1]), args[0]).withRetries(3, Duration.ofMillis(1));
        System.out.println(new Hub(settings, DownloadProgress.SILENT).snapshot(ModelName.parse(args[2])));
    }
}
