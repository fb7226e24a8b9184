package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.OciHook;
import dev.cgbpf.hook.policy.Policy;

import java.util.List;

/** {@code cgbpf policy explain --bundle DIR}: the merged policy and the programs it compiles to. */
final class PolicyCommand implements Command {
    /** Listing lines shown per program unless --full. */
    static final int LISTING_LINES = 400;
    /** The fd number the listing shows for the counter map (the hook uses the real map's fd). */
    static final int LISTING_MAP_FD = 3;

    @Override
    public String name() {
        return "policy";
    }

    @Override
    public String synopsis() {
        return "explain --bundle DIR [--policy FILE] [--annotation KEY=VALUE]... [--full]";
    }

    @Override
    public String summary() {
        return "the merged policy of a container and its generated programs";
    }

    @Override
    public String help() {
        return """
                Merges config.json, the host policy and the annotations exactly as the hook
                does, prints the rules in order with their origin, the merged device
                allowlist, the network settings, and each generated program as the kernel's
                verifier log would list it (map fd %d stands for the container's counter map).
                No root needed, nothing is loaded.

                %s  --full                the whole listing of long programs (default: first %d lines)
                """.formatted(LISTING_MAP_FD, PolicyOptions.HELP, LISTING_LINES);
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        PolicyOptions po = new PolicyOptions();
        boolean full = false;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--full")) {
                args.noValue(o);
                full = true;
            } else if (!po.accept(o, args)) {
                throw args.unknownOption(o);
            }
        }
        List<String> ops = args.operands(1);
        if (ops.isEmpty() || !ops.get(0).equals("explain")) {
            throw CliException.usage("policy: the subcommand is explain (cgbpf policy explain --bundle DIR)");
        }
        Policy policy = po.load("policy explain");
        var out = console.out();
        out.print(policy.describe());
        try {
            OciHook.checkRuntimeNeeds(policy);
        } catch (HookException e) {
            out.println("WARNING: " + e.getMessage());
        }
        List<CompiledProgram> progs = PolicyCompiler.compile(policy, new DenialCounters(LISTING_MAP_FD));
        out.println("programs (" + progs.size() + "):");
        for (CompiledProgram p : progs) {
            out.println();
            out.println("== " + p.name() + "  " + p.type().scenarioName() + " at " + p.attachType().scenarioName()
                    + ", " + p.program().size() + " instruction slots");
            String[] lines = p.listing().split("\n");
            int n = full ? lines.length : Math.min(lines.length, LISTING_LINES);
            for (int i = 0; i < n; i++) {
                out.println(lines[i]);
            }
            if (n < lines.length) {
                out.println("... " + (lines.length - n) + " more lines (--full shows all)");
            }
        }
        return 0;
    }
}
