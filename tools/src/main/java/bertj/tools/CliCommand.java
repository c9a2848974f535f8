package bertj.tools;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of the CLI's subcommands: a picocli {@code @Command} whose {@link #call()} returns the exit code and
 * reports errors by throwing (the message becomes the one line {@code bertj: message} on stderr). Register a
 * new command in {@link Main#COMMANDS}.
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
}
