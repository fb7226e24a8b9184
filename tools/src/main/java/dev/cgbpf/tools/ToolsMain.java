package dev.cgbpf.tools;

import dev.cgbpf.hook.cli.CommandLine;
import dev.cgbpf.hook.cli.Console;
import java.util.List;

/**
 * {@code cgbpf-tools}: the developer tools that are not part of the product jar (the verifier
 * fuzzer, the benchmarks), with the command-line conventions of {@code cgbpf}. The main class of
 * {@code tools/target/cgbpf-tools.jar}; install.sh installs it as {@code /usr/local/bin/cgbpf-tools}.
 */
public final class ToolsMain {
    static final CommandLine TOOLS = new CommandLine("cgbpf-tools",
            "cgbpf's developer tools (benchmarks, the verifier fuzzer); not part of the product",
            List.of(new BenchCommand(), new FuzzCommand()));

    private ToolsMain() {
    }

    public static void main(String[] args) {
        int status = run(args, Console.system());
        System.out.flush();
        System.exit(status);
    }

    /** Runs one command line; returns the exit status. */
    public static int run(String[] argv, Console console) {
        return TOOLS.run(argv, console);
    }
}
