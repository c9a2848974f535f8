package bertj.engine;

/**
 * The JVM flags the SIMD kernels need, checked when a model loads: without {@code --add-modules
 * jdk.incubator.vector} the first kernel class fails with a bare {@code NoClassDefFoundError}; without native
 * access the weights are read through slower segments (30-40% slower forwards) and nothing else says so.
 */
final class JvmFlags {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static volatile boolean warned;

    private JvmFlags() {}

    /** @throws IllegalStateException naming the flag to add when the Vector API's module is not in the JVM */
    static void requireVectorModule() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            throw new IllegalStateException("bertj's kernels need the JVM flag --add-modules " + VECTOR_MODULE
                    + " (the Vector API is an incubator module); add it to the java command line");
        }
    }

    /** Logs once, as a warning, that native access is off and what it costs. */
    static void warnOnceWithoutNativeAccess() {
        if (warned || JvmFlags.class.getModule().isNativeAccessEnabled()) return;
        warned = true;
        System.getLogger(JvmFlags.class.getName()).log(System.Logger.Level.WARNING,
                "native access is not enabled for bertj: add the JVM flag --enable-native-access=ALL-UNNAMED (or "
                        + "bertj's module name); without it the kernels read the weights 30-40% slower");
    }
}
