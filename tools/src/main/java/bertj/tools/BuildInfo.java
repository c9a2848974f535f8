package bertj.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version that Maven writes into {@code bertj/tools/build.properties} from the poms. */
final class BuildInfo {
    static final String VERSION;

    static {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        VERSION = value(p, "version");
    }

    private BuildInfo() {
    }

    private static String value(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.contains("${")) {
            throw new IllegalStateException("bertj/tools/build.properties has no " + key + "; build the tools module with Maven");
        }
        return v;
    }
}
