package dev.cgbpf.tools.fuzz;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.Verifier;
import dev.cgbpf.kernel.KernelBackend;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Verifier fuzzing: random and mutated programs (see {@link FuzzProgramGenerator}) go through the
 * engine verifier and, unless {@code --engine-only}, through the host kernel too.
 *
 * <pre>
 *   java -cp tools/target/cgbpf-tools.jar dev.cgbpf.tools.fuzz.Fuzz --count 100000 --seed 1
 *   cgbpf-tools fuzz --count 100000 --seed 1      (the same, through the tools' command line)
 * </pre>
 *
 * Checks: no exception other than the verifier's own {@link BpfException} escapes the verifier;
 * every program the engine accepts the kernel accepts too (soundness). Prints the verdict
 * agreement rate and, over programs both reject, the errno-and-reason agreement. Exit status 1
 * when a check failed, 2 for bad arguments.
 */
public final class Fuzz {
    /** What one run found. */
    public record Report(long programs, long crashes, long unsound, long kernelChecked, long verdictAgree,
                         long bothRejected, long reasonAgree, long engineAccepted, boolean kernel) {
        public boolean ok() {
            return crashes == 0 && unsound == 0;
        }

        public String summary() {
            if (!kernel) {
                return String.format("%d programs, %d engine accepts, %d verifier crashes (no kernel: "
                        + "agreement not measured)", programs, engineAccepted, crashes);
            }
            return String.format("%d programs, %d engine accepts, %d verifier crashes, %d unsound accepts; "
                            + "verdict agreement %.2f%%, errno+reason agreement on common rejections %.2f%%",
                    programs, engineAccepted, crashes, unsound, 100.0 * verdictAgree / Math.max(1, kernelChecked),
                    100.0 * reasonAgree / Math.max(1, bothRejected));
        }
    }

    private static final ProgType[] TYPES = {ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB, ProgType.CGROUP_DEVICE,
        ProgType.CGROUP_SOCK_ADDR, ProgType.CGROUP_SOCK, ProgType.SOCK_OPS};
    private static final AttachType[] SOCK_ADDR = {AttachType.CGROUP_INET4_CONNECT, AttachType.CGROUP_INET6_CONNECT,
        AttachType.CGROUP_INET4_BIND, AttachType.CGROUP_INET6_BIND, AttachType.CGROUP_UDP4_SENDMSG,
        AttachType.CGROUP_UDP6_SENDMSG};
    private static final AttachType[] SOCK = {AttachType.CGROUP_INET_SOCK_CREATE, AttachType.CGROUP_INET4_POST_BIND,
        AttachType.CGROUP_INET6_POST_BIND};
    private static final MapSpec[] MAPS = {new MapSpec("hash", MapType.HASH, 4, 8, 16, 0),
        new MapSpec("array", MapType.ARRAY, 4, 48, 4, 0)};

    private Fuzz() {
    }

    public static void main(String[] args) {
        long count = 1000;
        long seed = 1;
        boolean engineOnly = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--count" -> count = Long.parseLong(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--engine-only" -> engineOnly = true;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (count <= 0) {
                throw new IllegalArgumentException("--count must be positive");
            }
        } catch (RuntimeException e) {
            System.err.println("fuzz: " + (e instanceof ArrayIndexOutOfBoundsException ? "missing option value" : e.getMessage())
                    + "\nusage: Fuzz [--count N] [--seed S] [--engine-only]");
            System.exit(2);
            return;
        }
        Backend kernel = null;
        if (!engineOnly) {
            try {
                kernel = kernelBackend();
            } catch (IllegalStateException e) {
                // no silent engine-only run: the comparison with the kernel is the point
                System.err.println("fuzz: " + e.getMessage() + " (--engine-only runs without it)");
                System.exit(2);
                return;
            }
        }
        try {
            Report r = run(count, seed, kernel, System.out);
            System.out.println("fuzz seed " + seed + ": " + r.summary());
            System.exit(r.ok() ? 0 : 1);
        } finally {
            if (kernel != null) {
                kernel.close();
            }
        }
    }

    /**
     * The host kernel's backend, checked with a trivial load.
     *
     * @throws IllegalStateException naming why it cannot be used (a library missing, bpf(2) refused)
     */
    public static Backend kernelBackend() {
        Backend k;
        try {
            k = new KernelBackend();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("the kernel backend cannot be loaded: " + e);
        }
        try (LoadedProg p = k.load(new LoadRequest("probe", ProgType.SOCKET_FILTER, null,
                Program.of(new Insn(0xb7, 0, 0, 0, 0), new Insn(0x95, 0, 0, 0, 0)), "GPL", 0))) {
            return k;
        } catch (BpfException | RuntimeException | LinkageError e) {
            k.close();
            throw new IllegalStateException("the host kernel refused a trivial program: " + e.getMessage());
        }
    }

    /**
     * Runs {@code count} programs from {@code seed}. With {@code kernel} null only the engine runs.
     * Findings are printed to {@code out}.
     */
    public static Report run(long count, long seed, Backend kernel, PrintStream out) {
        Map<Integer, MapSpec> specs = new HashMap<>();
        int[] fds = new int[MAPS.length];
        for (int i = 0; i < MAPS.length; i++) {
            if (kernel != null) {
                try {
                    fds[i] = kernel.createMap(MAPS[i]).fd();
                } catch (BpfException e) {
                    throw new IllegalStateException("cannot create fuzz map: " + e.getMessage(), e);
                }
            } else {
                fds[i] = 1000 + i;
            }
            specs.put(fds[i], MAPS[i]);
        }
        FuzzProgramGenerator gen = new FuzzProgramGenerator(seed, fds);
        SplittableRandom pick = new SplittableRandom(seed ^ 0x5deece66dL);
        long crashes = 0, unsound = 0, checked = 0, agree = 0, bothRejected = 0, reasonAgree = 0, accepted = 0;
        for (long n = 0; n < count; n++) {
            Program p = gen.next();
            ProgType type = TYPES[pick.nextInt(TYPES.length)];
            AttachType attach = switch (type) {
                case CGROUP_SOCK_ADDR -> SOCK_ADDR[pick.nextInt(SOCK_ADDR.length)];
                case CGROUP_SOCK -> SOCK[pick.nextInt(SOCK.length)];
                case CGROUP_SKB -> pick.nextBoolean() ? AttachType.CGROUP_INET_EGRESS : null;
                default -> null;
            };
            String engineErrno = null;
            String engineReason = null;
            try {
                Verifier.verify(p, type, attach, specs::get,
                        fd -> kernel != null && fd >= 0 && new java.io.File("/proc/self/fd/" + fd).exists(), 1);
                accepted++;
            } catch (BpfException e) {
                engineErrno = e.errno();
                engineReason = e.logReason();
            } catch (RuntimeException | StackOverflowError e) {
                crashes++;
                out.println("CRASH " + e + " on " + describe(p, type, attach));
                continue;
            }
            if (kernel == null) {
                continue;
            }
            String kernelErrno = null;
            String kernelReason = null;
            try (LoadedProg lp = kernel.load(new LoadRequest("fuzz", type, attach, p, "GPL", 1))) {
                // accepted
            } catch (BpfException e) {
                kernelErrno = e.errno();
                kernelReason = e.logReason();
            }
            checked++;
            if ((engineErrno == null) == (kernelErrno == null)) {
                agree++;
            }
            if (engineErrno == null && kernelErrno != null) {
                unsound++;
                out.println("UNSOUND engine accepts, kernel " + kernelErrno + " \"" + kernelReason + "\": "
                        + describe(p, type, attach));
            }
            if (engineErrno != null && kernelErrno == null && checked - agree <= 20) {
                out.println("STRICT engine " + engineErrno + " \"" + engineReason + "\", kernel accepts: "
                        + describe(p, type, attach));
            }
            if (engineErrno != null && kernelErrno != null) {
                bothRejected++;
                if (!(engineErrno.equals(kernelErrno) && Objects.equals(engineReason, kernelReason))
                        && bothRejected - reasonAgree <= 20) {
                    out.println("REASON engine " + engineErrno + " \"" + engineReason + "\", kernel " + kernelErrno
                            + " \"" + kernelReason + "\": " + describe(p, type, attach));
                }
                if (engineErrno.equals(kernelErrno) && Objects.equals(engineReason, kernelReason)) {
                    reasonAgree++;
                }
            }
        }
        return new Report(count, crashes, unsound, checked, agree, bothRejected, reasonAgree, accepted, kernel != null);
    }

    private static String describe(Program p, ProgType type, AttachType attach) {
        StringBuilder sb = new StringBuilder(type.scenarioName());
        if (attach != null) {
            sb.append('/').append(attach.scenarioName());
        }
        sb.append(" hex ").append(p.toHex());
        try {
            sb.append('\n');
            for (String line : new Disassembler().listing(p)) {
                sb.append("    ").append(line).append('\n');
            }
        } catch (RuntimeException e) {
            sb.append(" (not disassemblable)");
        }
        return sb.toString();
    }
}
