package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import java.net.InetAddress;
import java.util.Set;

/**
 * A scenario session that sets up a tree, programs, a probe worker and a listener, prints what it
 * made, and waits to be interrupted: the teardown test sends it SIGINT (Ctrl-C) or SIGKILL.
 */
public final class HoldScenarioMain {
    private HoldScenarioMain() {
    }

    public static void main(String[] args) throws Exception {
        KernelBackend b = KernelBackend.openScenario();
        b.mkdir("a");
        b.mkdir("a/b");
        LoadedProg deny = Progs.device(b, "deny", 0);
        b.attach("a/b", deny, AttachType.CGROUP_DEVICE, Set.of(AttachFlag.ALLOW_MULTI), null);
        b.attach("a", Progs.device(b, "allow", 1), AttachType.CGROUP_DEVICE, Set.of(AttachFlag.ALLOW_MULTI), null);
        b.device("a/b", new Probe.DeviceAccess('c', 1, 3, "rwm"));
        b.listen(InetAddress.getByName("127.0.0.1"), 0, Probe.Proto.UDP);
        System.out.println("root=" + b.cgroupRoot());
        System.out.println("worker=" + b.workerPid());
        System.out.println("private=" + b.privateDirectory());
        System.out.println("progs=" + b.loadedProgIds().stream().map(String::valueOf).reduce((x, y) -> x + "," + y)
                .orElse(""));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(120_000);
    }
}
