package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.hook.policy.BindAddresses;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceException;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PortRange;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.KernelBackend;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind of generated program passes the running kernel's verifier, with the attach type it is meant for. */
class ProgramsKernelTest {
    private static final int BPF_LOG_STATS = 4;
    private static final Pattern PROCESSED = Pattern.compile("processed (\\d+) insns");

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    static int loadAll(List<CompiledProgram> progs, KernelBackend k) throws Exception {
        int maxProcessed = 0;
        for (CompiledProgram p : progs) {
            try (LoadedProg lp = k.load(p.loadRequest(BPF_LOG_STATS))) {
                Matcher m = PROCESSED.matcher(lp.verifierLog());
                assertTrue(m.find(), p.name() + ": no statistics in the log: " + lp.verifierLog());
                int processed = Integer.parseInt(m.group(1));
                System.out.printf("%-12s %-16s %7d insns, verifier processed %7d%n", p.name(), p.attachType().scenarioName(),
                        p.program().size(), processed);
                maxProcessed = Math.max(maxProcessed, processed);
            }
        }
        return maxProcessed;
    }

    static NetworkPolicy net(String addrs, BindMode mode, String ports, Set<SocketRule> socks) throws Exception {
        BindAddresses b = addrs.isEmpty() ? BindAddresses.NONE : BindAddresses.parse(addrs, "test", a -> true);
        return new NetworkPolicy(b, mode, PortRange.parseList(ports, "test"), socks);
    }

    @Test
    void networkProgramsLoad() throws Exception {
        try (KernelBackend k = new KernelBackend(); BpfMap counters = k.createMap(DenialCounters.SPEC)) {
            DenialCounters dc = new DenialCounters(counters.fd());
            List<NetworkPolicy> cases = List.of(
                    net("127.0.0.5", BindMode.REWRITE, "", Set.of()),
                    net("127.0.0.5,127.0.0.6", BindMode.DENY, "8000-8099,443", EnumSet.allOf(SocketRule.class)),
                    net("::1", BindMode.REWRITE, "1024-65535", Set.of(SocketRule.RAW)),
                    net("192.0.2.1,2001:db8::1", BindMode.REWRITE, "", Set.of()),
                    net("", BindMode.REWRITE, "80", Set.of()));
            int programs = 0;
            for (NetworkPolicy n : cases) {
                List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(n, dc));
                SockCreateCompiler.compile(n.denySockets(), dc).ifPresent(progs::add);
                progs.addAll(AddressGuardCompiler.compile(n.bind(), dc));
                loadAll(progs, k);
                programs += progs.size();
            }
            assertEquals(36, programs); // 4 policies with addresses: 6 sock_addr + 2 guards; 3 socket programs; 2 bind-only
        }
    }

    /**
     * Both default modes at the policy's exception limit, with the costliest exception shape, and
     * with denial events as the hook compiles them (each deny block sets its rule index).
     */
    @Test
    void biggestDeviceProgramsLoad() throws Exception {
        try (KernelBackend k = new KernelBackend(); BpfMap counters = k.createMap(DenialCounters.SPEC);
             BpfMap events = k.createMap(DenialCounters.EVENTS_SPEC)) {
            DenialCounters dc = new DenialCounters(counters.fd(), events.fd());
            for (boolean defaultAllow : new boolean[] {false, true}) {
                List<DeviceException> ex = new ArrayList<>();
                for (int i = 0; i < Policy.MAX_LINEAR_EXCEPTIONS; i++) {
                    // all fields concrete and a partial access set: the costliest block
                    ex.add(new DeviceException(i % 2 == 0 ? DeviceType.CHAR : DeviceType.BLOCK, 1000 + i / 7, i, 1 + i % 6));
                }
                long t0 = System.nanoTime();
                int processed = loadAll(List.of(DeviceCompiler.program(new DeviceAllowlist(defaultAllow, ex), dc)), k);
                System.out.printf("  %s, %d exceptions: loaded in %d ms%n", defaultAllow ? "allow-by-default" : "deny-by-default",
                        ex.size(), (System.nanoTime() - t0) / 1_000_000);
                assertTrue(processed < 800_000, "keep a margin to the verifier's budget of 1,000,000: " + processed);
            }
            loadAll(List.of(DeviceCompiler.program(new DeviceAllowlist(true, List.of()), dc),
                    DeviceCompiler.program(new DeviceAllowlist(false, List.of()), dc)), k);
        }
    }
}
