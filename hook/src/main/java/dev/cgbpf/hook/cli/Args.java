package dev.cgbpf.hook.cli;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The arguments after the subcommand, consumed left to right. Options ({@code --name},
 * {@code --name VALUE} or {@code --name=VALUE}) may stand before, between or after the operands,
 * as users of GNU tools expect ({@code cgbpf asm prog.s --map m=7}); {@code --} ends the options
 * and a lone {@code -} is an operand (stdin).
 */
public final class Args {
    private final String program;
    private final String command;
    private final List<String> original;
    private final Deque<String> rest;
    private final List<String> operands = new ArrayList<>();
    private String pendingValue;

    Args(String command, List<String> args) {
        this("cgbpf", command, args);
    }

    /** The arguments of {@code command} of the command line {@code program} (its name, for messages). */
    public Args(String program, String command, List<String> args) {
        this.program = program;
        this.command = command;
        this.original = List.copyOf(args);
        this.rest = new ArrayDeque<>(args);
    }

    /** The arguments as given, before any was consumed ({@code cgbpf daemon --detach} runs itself again with them). */
    List<String> original() {
        return original;
    }

    /** The next option name (without its {@code =value}), or null when the options are over. */
    public String nextOption() {
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
    public String value(String option) throws CliException {
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
    public void noValue(String option) throws CliException {
        if (pendingValue != null) {
            throw CliException.usage(command + ": option " + option + " takes no value");
        }
    }

    public CliException unknownOption(String option) {
        return CliException.usage(command + ": unknown option " + option + " (see '" + program + " help " + command + "')");
    }

    /** The remaining operands; at most {@code max} of them. */
    public List<String> operands(int max) throws CliException {
        List<String> out = new ArrayList<>(operands);
        out.addAll(rest);
        operands.clear();
        rest.clear();
        if (out.size() > max) {
            throw CliException.usage(command + ": unexpected argument '" + out.get(max) + "'");
        }
        return out;
    }

    /** The number an option takes, e.g. {@code --runs 5}. */
    public static int intValue(String v, String option) throws CliException {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw CliException.usage(option + ": '" + v + "' is not a number");
        }
    }
}
