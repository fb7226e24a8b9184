package dev.cgbpf.hook.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command line over a set of subcommands: {@code cgbpf}'s own ({@link Main}), and the tools
 * jar's {@code cgbpf-tools}, which reuses the same conventions. User mistakes end as one line
 * {@code NAME: <reason>} on stderr and a non-zero exit status, never a stack trace.
 *
 * @param name the program's name, as users type it ({@code cgbpf})
 * @param title what the program is, for the first line of its usage text
 * @param commands its subcommands, in the order the usage text lists them
 */
public record CommandLine(String name, String title, List<Command> commands) {
    public CommandLine {
        commands = List.copyOf(commands);
    }

    /** Runs one command line; returns the exit status. */
    public int run(String[] argv, Console console) {
        Map<String, Command> byName = byName();
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
                    console.out().println(name + " " + Main.version());
                    return 0;
                }
                case "help", "--help", "-h" -> {
                    return help(byName, rest, console);
                }
                default -> {
                    Command c = byName.get(first);
                    if (c == null) {
                        throw CliException.usage("unknown command '" + first + "' (try '" + name + " help')");
                    }
                    if (rest.contains("--help") || rest.contains("-h")) {
                        printHelp(c, console);
                        return 0;
                    }
                    return c.run(new Args(name, c.name(), rest), console);
                }
            }
        } catch (CliException e) {
            console.out().flush();
            console.err().println(name + ": " + e.getMessage());
            return e.exitStatus();
        }
    }

    private int help(Map<String, Command> byName, List<String> rest, Console console) throws CliException {
        if (rest.isEmpty()) {
            printUsage(console);
            return 0;
        }
        Command c = byName.get(rest.get(0));
        if (c == null) {
            throw CliException.usage("help: unknown command '" + rest.get(0) + "'");
        }
        printHelp(c, console);
        return 0;
    }

    private void printUsage(Console console) {
        var out = console.out();
        out.println(name + " " + Main.version() + ": " + title);
        out.println();
        out.println("usage: " + name + " <command> [options] [arguments]");
        out.println();
        out.println("commands:");
        for (Command c : commands) {
            out.printf("  %-8s %s%n", c.name(), c.summary());
        }
        out.printf("  %-8s %s%n", "help", "help [COMMAND]: this text, or a command's options");
        out.println();
        out.println(name + " --version prints the version.");
    }

    private void printHelp(Command c, Console console) {
        console.out().println("usage: " + name + " " + c.name() + " " + c.synopsis());
        console.out().println();
        console.out().print(c.help());
    }

    private Map<String, Command> byName() {
        Map<String, Command> m = new LinkedHashMap<>();
        for (Command c : commands) {
            m.put(c.name(), c);
        }
        return m;
    }
}
