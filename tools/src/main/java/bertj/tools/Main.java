package bertj.tools;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import bertj.tools.export.ExportOnnxCommand;
import bertj.tools.export.RandomModelCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code bertj} command line. Each subcommand is a {@link CliCommand} subclass listed in {@link #COMMANDS}.
 *
 * <p>Exit codes: 0 success; 1 an error, reported as one line {@code bertj: message} on stderr (with the stack
 * trace only under {@code --debug}); 2 wrong flags or arguments, reported with a short usage.
 */
@Command(name = "bertj", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Hand-optimized CPU inference for BERT encoders.",
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "MODEL is a model directory, a Hugging Face model name (org/name[@revision], fetched",
                "into the Hugging Face cache) or 'default' (sentence-transformers/all-MiniLM-L6-v2).",
                "Run 'bertj COMMAND --help' for a command's options."})
public final class Main implements Callable<Integer> {
    /** The subcommands, in the order --help lists them. A new command is a CliCommand subclass added here. */
    static final List<Class<? extends CliCommand>> COMMANDS = List.of(DemoCommand.class, InspectCommand.class,
            TokenizeCommand.class, EncodeCommand.class, EmbedCommand.class, SimilarityCommand.class, ClassifyCommand.class,
            NerCommand.class, QaCommand.class, DownloadCommand.class, CacheCommand.class, ImportOnnxCommand.class,
            ExportOnnxCommand.class, QuantizeCommand.class, RandomModelCommand.class, ServeCommand.class, TrainCommand.class);

    static final int OK = 0, ERROR = 1, USAGE = 2;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Show the stack trace of an error.")
    boolean debug;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Standard input, as the commands read it (a field so that tests can supply their own). */
    final InputStream stdin;

    private Main(InputStream stdin) {
        this.stdin = stdin;
    }

    public static void main(String[] args) {
        // UTF-8 whatever the locale, without loss: commands write JSON and token text.
        PrintWriter out = new PrintWriter(new LosslessUtf8Writer(new FileOutputStream(FileDescriptor.out)));
        PrintWriter err = new PrintWriter(new LosslessUtf8Writer(new FileOutputStream(FileDescriptor.err)), true);
        int code = run(args, System.in, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs the command line {@code args} and returns the exit code; never throws, never exits the JVM. */
    public static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(in, args);
        cli.setOut(out);
        cli.setErr(err);
        try {
            return cli.execute(args);
        } catch (Throwable t) { // an Error (out of memory, stack overflow) escaping a command
            if (isDebug(args)) t.printStackTrace(err);
            err.println("bertj: " + message(t));
            return ERROR;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /**
     * The command line for {@code args}: with only the subcommand they name when they name one, since picocli
     * reads every command's annotations up front (a tenth of a second of a one-shot command's start).
     */
    static CommandLine commandLine(InputStream in, String[] args) {
        CommandLine cli = new CommandLine(new Main(in));
        List<Class<? extends CliCommand>> available = available();
        List<Class<? extends CliCommand>> commands = available;
        for (String arg : args) {
            if (arg.startsWith("-")) continue;
            for (Class<? extends CliCommand> command : available) {
                if (command.getAnnotation(Command.class).name().equals(arg)) commands = List.of(command);
            }
            break;
        }
        for (Class<? extends CliCommand> command : commands) {
            CommandLine sub = new CommandLine(command);
            // --help and --version on every command, whether or not its @Command asks for them
            if (!sub.getCommandSpec().mixinStandardHelpOptions()) sub.getCommandSpec().mixinStandardHelpOptions(true);
            cli.addSubcommand(sub);
        }
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionExceptionHandler(Main::executionError);
        return cli;
    }

    /**
     * {@link #COMMANDS}, then the commands of other bertj jars on the class path, listed in their
     * {@code META-INF/services/bertj.tools.CliCommand} (the spark module's spark-embed).
     */
    static List<Class<? extends CliCommand>> available() {
        List<Class<? extends CliCommand>> all = new ArrayList<>(COMMANDS);
        ServiceLoader.load(CliCommand.class).stream().forEach(provider -> all.add(provider.type()));
        return all;
    }

    /** {@code bertj} alone: a usage error. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given");
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("bertj: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.print(cmd.getHelp().fullSynopsis());
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        return USAGE;
    }

    private static int executionError(Exception e, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        boolean debug = false;
        for (ParseResult r = parseResult; r != null; r = r.subcommand()) debug |= r.hasMatchedOption("--debug");
        if (debug) e.printStackTrace(err);
        err.println("bertj: " + message(e));
        return ERROR;
    }

    private static boolean isDebug(String[] args) {
        return List.of(args).contains("--debug");
    }

    /** One line for the user: the exception's own message, which in bertj names the file and the problem. */
    static String message(Throwable t) {
        if (t instanceof UncheckedIOException && t.getCause() != null) {
            String own = t.getMessage();
            return own != null && !own.equals(t.getCause().toString()) ? own : message(t.getCause());
        }
        if (t instanceof NoSuchFileException e) return e.getFile() + ": no such file or directory";
        if (t instanceof AccessDeniedException e) return e.getFile() + ": permission denied";
        if (t instanceof FileSystemException e) return e.getMessage();
        if (t instanceof OutOfMemoryError) return "out of memory (give the JVM more with BERTJ_JAVA_OPTS=-Xmx...)";
        String m = t.getMessage();
        if ((m == null || m.isBlank()) && t.getCause() != null) return message(t.getCause()); // e.g. ExceptionInInitializerError
        if (m == null || m.isBlank()) return t.getClass().getSimpleName();
        if (t instanceof IOException || !(t instanceof RuntimeException)) return t.getClass().getSimpleName() + ": " + m;
        return m.strip().replaceAll("\\R", " "); // one line, whatever line breaks (\r too) the message holds
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"bertj " + BuildInfo.VERSION,
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
