package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** EngineBackend refuses at load a program calling a helper its interpreter cannot run. */
class HelperLoadRefusalTest {
    private final EngineBackend engine = new EngineBackend();

    @AfterEach
    void close() {
        engine.close();
    }

    /** A probe_read's arguments: 8 bytes of stack, 8, address 0 (other helpers ignore them). */
    private static final String[] READ_ARGS = {"r1 = r10", "r1 += -8", "r2 = 8", "r3 = 0"};

    private LoadedProg load(ProgType type, AttachType attach, int logLevel, Map<String, Integer> maps, String... lines)
            throws BpfException {
        return engine.load(new LoadRequest("p", type, attach, new Assembler(maps::get).assemble(List.of(lines)), "GPL",
                logLevel));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @CsvSource({
        "bpf_probe_read_kernel#113, cgroup_skb, cgroup_inet_ingress",
        "bpf_probe_read_user#112, cgroup_sock, cgroup_inet_sock_create",
        "bpf_probe_read_kernel_str#115, cgroup_device, cgroup_device",
        "bpf_probe_read_user_str#114, sock_ops, cgroup_sock_ops",
        "bpf_get_current_pid_tgid#14, socket_filter, ''"})
    void aHelperTheInterpreterLacksIsEinvalWithTheEngineLine(String helper, String type, String attach) {
        ProgType t = ProgType.fromScenarioName(type);
        AttachType a = attach.isEmpty() ? null : AttachType.fromScenarioName(attach);
        BpfException e = assertThrows(BpfException.class,
                () -> load(t, a, 1, Map.of(), READ_ARGS[0], READ_ARGS[1], READ_ARGS[2], READ_ARGS[3],
                        "call " + helper, "r0 = 1", "exit"));
        assertEquals("EINVAL", e.errno());
        String line = "engine: helper " + helper + " is not implemented by the engine's interpreter";
        assertEquals(line, e.logReason());
        String[] log = e.verifierLog().strip().split("\n");
        assertEquals(line, log[log.length - 1], "the engine's line is the log's last");
        assertTrue(log.length > 1, "after the verifier's own log at level 1: " + e.verifierLog());
        assertEquals("EINVAL: program 'p': insn 4: " + line, e.getMessage());
    }

    @Test
    void atLogLevelZeroTheLogIsTheEngineLineAlone() {
        BpfException e = assertThrows(BpfException.class, () -> load(ProgType.CGROUP_SKB,
                AttachType.CGROUP_INET_INGRESS, 0, Map.of(), READ_ARGS[0], READ_ARGS[1], READ_ARGS[2], READ_ARGS[3],
                "call bpf_probe_read_kernel#113", "r0 = 1", "exit"));
        assertEquals("engine: helper bpf_probe_read_kernel#113 is not implemented by the engine's interpreter\n",
                e.verifierLog());
    }

    @Test
    void aRefusedLoadRegistersNothing() throws BpfException {
        BpfMap m = engine.createMap(new MapSpec("m", MapType.ARRAY, 4, 8, 1, 0));
        assertEquals(3, m.fd());
        Map<String, Integer> maps = Map.of("m", m.fd());
        assertThrows(BpfException.class, () -> load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, 0, maps,
                "r1 = map[m]", READ_ARGS[0], READ_ARGS[1], READ_ARGS[2], READ_ARGS[3], "call bpf_probe_read_kernel#113",
                "r0 = 1", "exit"));
        // the refused program took no fd: the next object gets 4, and a good program loads beside it
        assertEquals(4, engine.createMap(new MapSpec("n", MapType.ARRAY, 4, 8, 1, 0)).fd());
        LoadedProg ok = load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, 0, maps,
                "r6 = r1", "r1 = map[m]", "r1 = r6", "call bpf_get_socket_uid#47", "r0 = 1", "exit");
        ok.close();
        assertEquals(5, engine.createMap(new MapSpec("o", MapType.ARRAY, 4, 8, 1, 0)).fd(),
                "fd 5: the good program's fd was 5 and is free again");
    }

    @Test
    void helpersTheInterpreterHasLoadInEveryTypeThatMayCallThem() throws BpfException {
        load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 0, Map.of(),
                "r6 = r1",
                "call bpf_ktime_get_boot_ns#125", "call bpf_get_smp_processor_id#8", "call bpf_get_numa_node_id#42",
                "r1 = 0", "call bpf_get_current_ancestor_cgroup_id#123", "r1 = r6", "call bpf_skb_cgroup_id#79",
                "r1 = r6", "call bpf_get_socket_cookie#46", "r1 = r6", "call bpf_skb_ecn_set_ce#97",
                "call bpf_get_cgroup_classid#17", "r1 = 0", "call bpf_get_netns_cookie#122",
                "r0 = 1", "exit");
        load(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, 0, Map.of(),
                "call bpf_get_socket_cookie#46", "r0 = 1", "exit");
        load(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, 0, Map.of(),
                "call bpf_get_socket_cookie#46", "r0 = 1", "exit");
        load(ProgType.SOCK_OPS, null, 0, Map.of(), "call bpf_get_socket_cookie#46", "r0 = 1", "exit");
    }

    /** The current task's helpers (the probing thread's ids, uid/gid, comm, task pointer) load in every cgroup type. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"cgroup_skb, cgroup_inet_egress", "cgroup_sock, cgroup_inet_sock_create",
        "cgroup_sock_addr, cgroup_inet4_connect", "cgroup_sock_addr, cgroup_udp6_sendmsg", "sock_ops, cgroup_sock_ops",
        "cgroup_device, cgroup_device"})
    void currentTaskHelpersLoadInEveryCgroupType(String type, String attach) throws BpfException {
        load(ProgType.fromScenarioName(type), AttachType.fromScenarioName(attach), 0, Map.of(),
                "call bpf_get_current_pid_tgid#14", "call bpf_get_current_uid_gid#15", "call bpf_get_current_task#35",
                "call bpf_get_current_task_btf#158",
                "r1 = r10", "r1 += -16", "r2 = 16", "call bpf_get_current_comm#16",
                "r1 = 0", "r2 = 0", "r3 = r10", "r3 += -24", "r4 = 8", "call bpf_get_ns_current_pid_tgid#120",
                "r0 = 1", "exit").close();
    }

    /** The license reaches the verifier: GPL-only helpers are refused to other licenses, before anything runs. */
    @Test
    void aGplOnlyHelperIsRefusedToANonGplLicense() throws BpfException {
        Assembler asm = new Assembler();
        var program = asm.assemble(List.of("r1 = r10", "r1 += -8", "r2 = 8", "r3 = 0", "call bpf_probe_read_kernel#113",
                "r0 = 1", "exit"));
        BpfException e = assertThrows(BpfException.class, () -> engine.load(new LoadRequest("p", ProgType.CGROUP_SKB,
                AttachType.CGROUP_INET_INGRESS, program, "Dual MIT/Apache", 1)));
        assertEquals("EINVAL", e.errno());
        assertEquals("cannot call GPL-restricted function from non-GPL compatible program", e.logReason());
        var ktime = asm.assemble(List.of("call bpf_ktime_get_ns#5", "r0 = 1", "exit"));
        try (LoadedProg p = engine.load(new LoadRequest("p", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                ktime, "Dual MIT/Apache", 1))) {
            assertEquals("p", p.name(), "a helper that is not GPL-only loads under any license");
        }
    }
}
