package dev.cgbpf.hook.compile;

import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.Policy;

import java.util.ArrayList;
import java.util.List;

/**
 * All programs of one container's policy, in attach order: the host's device ceiling, the
 * container's device list, socket, the sock_addr programs, then the packet guards (cgbpf_in,
 * cgbpf_out). The two device programs are attached side by side (BPF_F_ALLOW_MULTI), so an access
 * must pass both: whatever the container's own rules allow, the host policy's still refuse. The
 * guards come last so that the programs that steer a socket to the container's address are in
 * place before the ones that drop what was not steered; the hook attaches before the container's
 * process runs, so the order only decides what a half-attached set (a failed attach, detached
 * again) would do.
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
            out.add(devices(DeviceCompiler.HOST_NAME, policy.hostDevices(), policy, counters));
        }
        if (policy.devices() != null) {
            out.add(devices(DeviceCompiler.NAME, policy.devices(), policy, counters));
        }
        SockCreateCompiler.compile(policy.network().denySockets(), counters).ifPresent(out::add);
        out.addAll(SockAddrCompiler.compile(policy.network(), counters));
        out.addAll(AddressGuardCompiler.compile(policy.network().bind(), counters));
        return out;
    }

    /** One device program, in the shape the host policy's {@code deviceProgram} gives its list. */
    public static CompiledProgram devices(String name, DeviceAllowlist list, Policy policy, DenialCounters counters) {
        return DeviceCompiler.program(name, list, counters, DeviceShape.of(policy.deviceProgram(), list));
    }
}
