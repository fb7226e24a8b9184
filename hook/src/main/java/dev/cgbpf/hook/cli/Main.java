package dev.cgbpf.hook.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The {@code cgbpf} command: a hand-written dispatcher over the subcommands. User mistakes end as
 * one line {@code cgbpf: <reason>} on stderr and a non-zero exit status, never a stack trace.
 */
public final class Main {
    private static final Map<String, Command> COMMANDS = commands(
            new AsmCommand(), new DisasmCommand(), new ScriptCommand(), new BenchCommand(), new DoctorCommand(), new VerifyCommand(),
            new HookCommand(), new DaemonCommand(), new PolicyCommand(), new CheckCommand(), new StatusCommand());

    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args, Console.system());
        System.out.flush();
        System.exit(status);
    }

    /** Runs one command line; returns the exit status. */
    public static int run(String[] argv, Console console) {
        List<String> args = Arrays.asList(argv);
        try {
            if (args.isEmpty()) {
                printUsage(console);
                return CliException.USAGE;
            }
            String first = args.get(0);
            List<String> rest = args.subList(1, args.size());
            switch (first) {
                case "--version", "version" -> {
                    console.out().println("cgbpf " + version());
                    return 0;
                }
                case "help", "--help", "-h" -> {
                    return help(rest, console);
                }
                default -> {
                    Command c = COMMANDS.get(first);
                    if (c == null) {
                        throw CliException.usage("unknown command '" + first + "' (try 'cgbpf help')");
                    }
                    if (rest.contains("--help") || rest.contains("-h")) {
                        printHelp(c, console);
                        return 0;
                    }
                    return c.run(new Args(c.name(), rest), console);
                }
            }
        } catch (CliException e) {
            console.out().flush();
            console.err().println("cgbpf: " + e.getMessage());
            return e.exitStatus();
        }
    }

    private static int help(List<String> rest, Console console) throws CliException {
        if (rest.isEmpty()) {
            printUsage(console);
            return 0;
        }
        Command c = COMMANDS.get(rest.get(0));
        if (c == null) {
            throw CliException.usage("help: unknown command '" + rest.get(0) + "'");
        }
        printHelp(c, console);
        return 0;
    }

    private static void printUsage(Console console) {
        var out = console.out();
        out.println("cgbpf " + version() + ": cgroup-bpf programs on the host kernel or in the JVM");
        out.println();
        out.println("usage: cgbpf <command> [options] [arguments]");
        out.println();
        out.println("commands:");
        for (Command c : COMMANDS.values()) {
            out.printf("  %-8s %s%n", c.name(), c.summary());
        }
        out.printf("  %-8s %s%n", "help", "help [COMMAND]: this text, or a command's options");
        out.println();
        out.println("cgbpf --version prints the version.");
    }

    private static void printHelp(Command c, Console console) {
        console.out().println("usage: cgbpf " + c.name() + " " + c.synopsis());
        console.out().println();
        console.out().print(c.help());
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: a missing version is not worth failing a command for
        }
        return "unknown";
    }

    private static Map<String, Command> commands(Command... cs) {
        Map<String, Command> m = new LinkedHashMap<>();
        for (Command c : cs) {
            m.put(c.name(), c);
        }
        return m;
    }
}
