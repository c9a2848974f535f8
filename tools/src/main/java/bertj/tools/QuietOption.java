package bertj.tools;

import picocli.CommandLine.Option;

/** {@code --quiet}, for the commands that read long jobs from stdin ({@code @Mixin}). */
final class QuietOption {
    @Option(names = "--quiet", description = "No progress line on stderr for a long stdin job.")
    boolean quiet;
}
