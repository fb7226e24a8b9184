package dev.cgbpf.hook.compile;

import dev.cgbpf.hook.policy.Policy;

import java.util.ArrayList;
import java.util.List;

/**
 * All programs of one container's policy, in attach order: the host's device ceiling, the
 * container's device list, socket, then the sock_addr programs. The two device programs are
 * attached side by side (BPF_F_ALLOW_MULTI), so an access must pass both: whatever the
 * container's own rules allow, the host policy's still refuse.
 */
public final class PolicyCompiler {
    private PolicyCompiler() {
    }

    public static List<CompiledProgram> compile(Policy policy, DenialCounters counters) {
        List<CompiledProgram> out = new ArrayList<>();
        if (!policy.applies()) {
            return out;
        }
        if (policy.hostDevices() != null) {
            out.add(DeviceCompiler.program(DeviceCompiler.HOST_NAME, policy.hostDevices(), counters));
        }
        if (policy.devices() != null) {
            out.add(DeviceCompiler.program(policy.devices(), counters));
        }
        SockCreateCompiler.compile(policy.network().denySockets(), counters).ifPresent(out::add);
        out.addAll(SockAddrCompiler.compile(policy.network(), counters));
        return out;
    }
}
