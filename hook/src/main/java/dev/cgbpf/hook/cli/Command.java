package dev.cgbpf.hook.cli;

/** A subcommand of cgbpf. */
interface Command {
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
