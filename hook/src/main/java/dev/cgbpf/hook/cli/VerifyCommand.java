package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.Verifier;
import java.util.List;

/**
 * {@code cgbpf verify}: loads a program the way BPF_PROG_LOAD does and prints the verifier's log,
 * exiting 0 when it is accepted and 1 when it is refused — on the engine (no root needed) or, to
 * compare, on the kernel.
 */
final class VerifyCommand implements Command {

    @Override
    public String name() {
        return "verify";
    }

    @Override
    public String synopsis() {
        return "--type TYPE [--attach ATTACH] [--log-level 1|2] [--backend engine|kernel] [FILE | -]";
    }

    @Override
    public String summary() {
        return "verify a program as the kernel's BPF_PROG_LOAD would, print the log, exit 0 or 1";
    }

    @Override
    public String help() {
        return """
                Reads a program in the verifier log's syntax (as 'cgbpf asm' does), verifies it as a
                program of TYPE with the expected attach type ATTACH, and prints the verifier log.
                Exit status 0: accepted; 1: refused (the errno and reason also go to stderr, one
                line); 2: bad arguments. Map references ("rN = map[NAME]") need maps: use a
                scenario ('cgbpf script') for those.

                  --type TYPE         program type: socket_filter, cgroup_device, cgroup_sock,
                                      cgroup_sock_addr, cgroup_skb, sock_ops, lirc_mode2
                  --attach ATTACH     expected attach type, e.g. cgroup_inet4_bind
                  --log-level N       1 (default: the reason and statistics) or 2 (every insn
                                      with the register state)
                  --backend B         engine (default: the engine's verifier, which answers
                                      as the kernel's load does) or kernel (needs root)
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        ProgType type = null;
        AttachType attach = null;
        int logLevel = 1;
        BackendChoice backend = BackendChoice.ENGINE;
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--type" -> type = parse(() -> ProgType.fromScenarioName(args.value("--type")));
                case "--attach" -> attach = parse(() -> AttachType.fromScenarioName(args.value("--attach")));
                case "--log-level" -> logLevel = logLevel(args.value(o));
                case "--backend" -> backend = BackendChoice.parse(args.value(o));
                default -> throw args.unknownOption(o);
            }
        }
        if (type == null) {
            throw CliException.usage("verify: --type is required (see 'cgbpf help verify')");
        }
        List<String> operands = args.operands(1);
        InputFile in = InputFile.of(operands.isEmpty() ? null : operands.get(0));
        Program program;
        try {
            program = new Assembler(name -> null).assemble(in.readText(console));
        } catch (IllegalArgumentException e) {
            throw CliException.badInput("verify: " + in.label() + ": " + e.getMessage());
        }
        try {
            console.out().print(backend == BackendChoice.ENGINE
                    // the engine's verifier alone: whether the engine's interpreter could also run
                    // the program (its helpers) is the engine backend's question, not the kernel's load's
                    ? Verifier.verify(program, type, attach, fd -> null, logLevel).log()
                    : loadInKernel(backend, new LoadRequest("verify", type, attach, program, "GPL", logLevel)));
            return 0;
        } catch (BpfException e) {
            console.out().print(e.verifierLog() == null ? "" : e.verifierLog());
            // a load refused before the verifier ran (e.g. a missing expected attach type) has no log
            String reason = e.logReason() != null ? e.logReason()
                    : e.getMessage().substring(e.errno().length() + 2);
            throw CliException.badInput("verify: refused: " + e.errno() + ": " + reason);
        }
    }

    private static String loadInKernel(BackendChoice backend, LoadRequest request) throws CliException, BpfException {
        try (Backend b = backend.open(); LoadedProg prog = b.load(request)) {
            return prog.verifierLog();
        }
    }

    private interface Parse<T> {
        T get() throws CliException;
    }

    /** Unknown type names are the user's mistake: a usage error, not a stack trace. */
    private static <T> T parse(Parse<T> p) throws CliException {
        try {
            return p.get();
        } catch (IllegalArgumentException e) {
            throw CliException.usage("verify: " + e.getMessage());
        }
    }

    private static int logLevel(String s) throws CliException {
        return switch (s) {
            case "1" -> 1;
            case "2" -> 2;
            default -> throw CliException.usage("verify: --log-level is 1 or 2, not '" + s + "'");
        };
    }
}
