package dev.cgbpf.hook.compile;

import dev.cgbpf.hook.policy.Policy;

import java.util.ArrayList;
import java.util.List;

/** All programs of one container's policy, in attach order: device, socket, then the sock_addr programs. */
public final class PolicyCompiler {
    private PolicyCompiler() {
    }

    public static List<CompiledProgram> compile(Policy policy, DenialCounters counters) {
        List<CompiledProgram> out = new ArrayList<>();
        if (!policy.applies()) {
            return out;
        }
        if (policy.devices() != null) {
            out.add(DeviceCompiler.program(policy.devices(), counters));
        }
        SockCreateCompiler.compile(policy.network().denySockets(), counters).ifPresent(out::add);
        out.addAll(SockAddrCompiler.compile(policy.network(), counters));
        return out;
    }
}
