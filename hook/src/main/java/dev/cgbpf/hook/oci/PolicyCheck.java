package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.maps.RingBufMap;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.policy.Policy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * {@code cgbpf check}: what a container's programs would decide, answered by the engine without
 * root: the container's programs are loaded into a fresh engine backend and attached to a cgroup
 * there, and the probe runs through the engine's cgroup hooks exactly as a task in that cgroup
 * would trigger them on the kernel. Only cgbpf's programs are asked: the runtime's own device
 * rules (which cgbpf mirrors, see config/README.md) and the host's firewall are not.
 *
 * <p>The programs are the kernel's, event tail included: a refusal writes its denial event
 * (docs/events.md) into a ring buffer of the engine, which {@link #takeEvents} reads, so that a
 * denied probe shows the same event the daemon would log for the container.
 */
public final class PolicyCheck implements AutoCloseable {
    static final String CGROUP = "container";
    private final EngineBackend engine = new EngineBackend();
    private final RingBufMap events;

    public PolicyCheck(Policy policy) throws HookException {
        try {
            engine.mkdir(CGROUP);
            BpfMap counters = engine.createMap(DenialCounters.SPEC);
            BpfMap ring = engine.createMap(DenialCounters.EVENTS_SPEC);
            events = engine.ringBuf(ring);
            for (CompiledProgram p : PolicyCompiler.compile(policy, DenialCounters.UNBOUND_WITH_EVENTS)) {
                LoadedProg lp = Attach.load(engine, p.withEvents(ring.fd()), counters.fd(), null);
                engine.attach(CGROUP, lp, p.attachType(), EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            }
        } catch (BpfException e) {
            engine.close();
            throw new HookException("the engine refused the container's programs: " + Attach.describe(e));
        }
    }

    /**
     * The denial events the programs reported since the last call, oldest first: the raw records
     * ({@code EventLayout}), as the daemon reads them from the kernel's ring. The probing task is
     * this JVM's calling thread: its pid, thread id and comm; the cgroup id is the engine's.
     */
    public List<byte[]> takeEvents() {
        List<byte[]> out = new ArrayList<>();
        events.consume(out::add, Integer.MAX_VALUE);
        return out;
    }

    /** Whether the container may make this device access. */
    public boolean device(char type, int major, int minor, String access) throws HookException {
        try {
            return engine.device(CGROUP, new Probe.DeviceAccess(type, major, minor, access));
        } catch (BpfException e) {
            throw new HookException("device check: " + Attach.describe(e));
        }
    }

    /** Where a bind from the container ends up; an {@link BpfException} is the errno the container would see. */
    public Probe.Bound bind(Probe.Family family, Probe.Proto proto, InetAddress addr, int port) throws BpfException {
        return engine.bind(CGROUP, family, proto, addr, port);
    }

    /**
     * What socket(2) of this kind gives the container: the new socket's fields, or a
     * {@link BpfException} with the errno it would see (EPERM when cgbpf_sock refuses the kind,
     * EPROTONOSUPPORT for a type and protocol that do not go together). The engine's own probe;
     * the CLI does not offer it, tests compare policies with it.
     */
    public Probe.SocketInfo socket(Probe.Family family, Probe.SockType type, int protocol) throws BpfException {
        return engine.socket(CGROUP, family, type, protocol);
    }

    @Override
    public void close() {
        engine.close();
    }
}
