package dev.cgbpf.hook.cli;

/** A subcommand of cgbpf (or of another {@link CommandLine}, such as the tools jar's cgbpf-tools). */
public interface Command {
    String name();

    /** One line: the arguments, e.g. {@code [--bare] [--hex HEX | FILE | -]}. */
    String synopsis();

    /** One line for the command list. */
    String summary();

    /** The full help text after the synopsis. */
    String help();

    /** @return the exit status */
    int run(Args args, Console console) throws CliException;
}
