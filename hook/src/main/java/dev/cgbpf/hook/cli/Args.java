package dev.cgbpf.hook.cli;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The arguments after the subcommand, consumed left to right. Options ({@code --name},
 * {@code --name VALUE} or {@code --name=VALUE}) may stand before, between or after the operands,
 * as users of GNU tools expect ({@code cgbpf bench interp --quick}); {@code --} ends the options
 * and a lone {@code -} is an operand (stdin).
 */
final class Args {
    private final String command;
    private final List<String> original;
    private final Deque<String> rest;
    private final List<String> operands = new ArrayList<>();
    private String pendingValue;

    Args(String command, List<String> args) {
        this.command = command;
        this.original = List.copyOf(args);
        this.rest = new ArrayDeque<>(args);
    }

    /** The arguments as given, before any was consumed ({@code cgbpf daemon --detach} runs itself again with them). */
    List<String> original() {
        return original;
    }

    /** The next option name (without its {@code =value}), or null when the options are over. */
    String nextOption() {
        String a;
        while ((a = rest.pollFirst()) != null && (!a.startsWith("-") || a.equals("-"))) {
            operands.add(a);
        }
        if (a == null) {
            return null;
        }
        if (a.equals("--")) {
            operands.addAll(rest);
            rest.clear();
            return null;
        }
        int eq = a.indexOf('=');
        if (a.startsWith("--") && eq > 0) {
            pendingValue = a.substring(eq + 1);
            return a.substring(0, eq);
        }
        pendingValue = null;
        return a;
    }

    /** The value of the option just returned by {@link #nextOption()}. */
    String value(String option) throws CliException {
        if (pendingValue != null) {
            String v = pendingValue;
            pendingValue = null;
            return v;
        }
        String v = rest.pollFirst();
        if (v == null) {
            throw CliException.usage(command + ": option " + option + " needs a value");
        }
        return v;
    }

    /** Rejects a value given with {@code --flag=value} to an option that takes none. */
    void noValue(String option) throws CliException {
        if (pendingValue != null) {
            throw CliException.usage(command + ": option " + option + " takes no value");
        }
    }

    CliException unknownOption(String option) {
        return CliException.usage(command + ": unknown option " + option + " (see 'cgbpf help " + command + "')");
    }

    /** The remaining operands; at most {@code max} of them. */
    List<String> operands(int max) throws CliException {
        List<String> out = new ArrayList<>(operands);
        out.addAll(rest);
        operands.clear();
        rest.clear();
        if (out.size() > max) {
            throw CliException.usage(command + ": unexpected argument '" + out.get(max) + "'");
        }
        return out;
    }
}
