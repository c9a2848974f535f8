package bertj.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of the CLI's subcommands: a picocli {@code @Command} whose {@link #call()} returns the exit code and
 * reports errors by throwing (the message becomes the one line {@code bertj: message} on stderr). Register a
 * new command in {@link Main#COMMANDS} (or, in a module that tools cannot depend on, in META-INF/services).
 */
public abstract class CliCommand implements Callable<Integer> {
    @Spec
    protected CommandSpec spec;

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    protected InputStream in() {
        return ((Main) spec.root().userObject()).stdin;
    }

    /** Answers one window of input lines, writing an answer per line in order; true when a line failed. */
    @FunctionalInterface
    protected interface WindowAnswer {
        boolean answer(List<JsonLines.Line> lines) throws IOException;
    }

    /**
     * Reads JSON Lines of {@code {"text": ..., "text_pair": ...}} from stdin, {@link EmbedCommand#WINDOW} lines at a
     * time, and answers each window, showing progress on stderr unless {@code quiet}; true when a line failed.
     */
    protected boolean answerStdinWindows(boolean quiet, WindowAnswer answer) throws IOException {
        JsonLines.Input input = new JsonLines.Input(in());
        Progress progress = Progress.forStdin(in(), err(), quiet);
        boolean failed = false;
        long done = 0;
        for (List<JsonLines.Line> lines; !(lines = input.next(EmbedCommand.WINDOW)).isEmpty(); ) {
            failed |= answer.answer(lines);
            if (progress != null) progress.update(done += lines.size(), input.bytesRead());
        }
        if (progress != null) progress.finish();
        return failed;
    }
}
