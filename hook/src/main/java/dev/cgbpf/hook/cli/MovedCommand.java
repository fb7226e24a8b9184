package dev.cgbpf.hook.cli;

/**
 * A command that left the product jar (the benchmarks are developer tools, in tools/'s
 * {@code cgbpf-tools}): listed still, so that whoever types it learns in one line where it went.
 */
final class MovedCommand implements Command {
    private final String name;
    private final String where;

    /** @param where how to run it now, one line */
    MovedCommand(String name, String where) {
        this.name = name;
        this.where = where;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String synopsis() {
        return "(moved to cgbpf-tools)";
    }

    @Override
    public String summary() {
        return "moved to cgbpf-tools, the developer tools (not in the product jar)";
    }

    @Override
    public String help() {
        return """
                Not part of the product jar any more: the developer tools (benchmarks, the
                verifier fuzzer) are built by tools/ into tools/target/cgbpf-tools.jar, and
                install.sh installs its launcher /usr/local/bin/cgbpf-tools.
                """ + "Now: " + where + "\n";
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        throw CliException.usage(name + ": moved to the developer tools: " + where);
    }
}
