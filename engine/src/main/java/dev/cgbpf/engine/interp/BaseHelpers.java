package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.backend.Errno;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The helpers every program type gets (the kernel's bpf_base_func_proto), as far as the engine
 * has them: the map element helpers, the clocks ({@link KernelClocks}), bpf_get_prandom_u32,
 * the CPU and NUMA node the program runs on, bpf_strtol/bpf_strtoul ({@link BpfStrtol}), bpf_strncmp,
 * bpf_trace_printk and bpf_trace_vprintk ({@link TracePrintk}), bpf_snprintf ({@link BpfSnprintf}), the ring buffer helpers ({@link RingBufHelpers}) and
 * the queue and stack map helpers ({@link QueueStackHelpers}), and bpf_get_branch_snapshot as a host
 * without branch records answers it.
 *
 * <p>A clock the host does not let the engine read exactly (TAI, jiffies and the coarse clock
 * need /proc/timer_list or the kernel's CONFIG_HZ) is left out, so that programs calling it are
 * refused at load rather than given a made-up time.
 */
public final class BaseHelpers {
    public static final int MAP_LOOKUP_ELEM = 1;
    public static final int MAP_UPDATE_ELEM = 2;
    public static final int MAP_DELETE_ELEM = 3;
    public static final int KTIME_GET_NS = 5;
    public static final int TRACE_PRINTK = 6;
    public static final int GET_PRANDOM_U32 = 7;
    public static final int GET_SMP_PROCESSOR_ID = 8;
    public static final int GET_NUMA_NODE_ID = 42;
    public static final int STRTOL = 105;
    public static final int STRTOUL = 106;
    public static final int JIFFIES64 = 118;
    public static final int KTIME_GET_BOOT_NS = 125;
    public static final int KTIME_GET_COARSE_NS = 160;
    public static final int SNPRINTF = 165;
    public static final int GET_BRANCH_SNAPSHOT = 176;
    public static final int TRACE_VPRINTK = 177;
    public static final int STRNCMP = 182;
    public static final int MAP_LOOKUP_PERCPU_ELEM = 195;
    public static final int KTIME_GET_TAI_NS = 208;

    /**
     * The CPU every engine program runs on: 0, the CPU whose per-CPU cgroup storage value
     * programs see (CgroupStorageMap).
     */
    public static final int ENGINE_CPU = 0;

    private BaseHelpers() {
    }

    /**
     * bpf_map_lookup_elem as the tables hold it: compiled programs compare against it before
     * taking their inlined lookup (JitRuntime.mapLookup), which gives the same results.
     */
    public static final Helper MAP_LOOKUP = BaseHelpers::mapLookupElem;

    public static final HelperTable TABLE = table(KernelClocks.host());

    /** The base table over the given clocks: the clocks they cannot give are left out. */
    static HelperTable table(KernelClocks clocks) {
        int node = numaNodeOfCpu(ENGINE_CPU);
        HelperTable.Builder b = HelperTable.builder()
                .add(MAP_LOOKUP_ELEM, MAP_LOOKUP)
                .add(MAP_UPDATE_ELEM, BaseHelpers::mapUpdateElem)
                .add(MAP_DELETE_ELEM, BaseHelpers::mapDeleteElem)
                .add(MAP_LOOKUP_PERCPU_ELEM, BaseHelpers::mapLookupPercpuElem)
                .add(KTIME_GET_NS, (m, r1, r2, r3, r4, r5) -> clocks.monotonicNs())
                .add(KTIME_GET_BOOT_NS, (m, r1, r2, r3, r4, r5) -> clocks.bootNs())
                .add(TRACE_PRINTK, TracePrintk::call)
                .add(GET_PRANDOM_U32, (m, r1, r2, r3, r4, r5) -> ThreadLocalRandom.current().nextInt() & 0xffffffffL)
                .add(GET_SMP_PROCESSOR_ID, (m, r1, r2, r3, r4, r5) -> ENGINE_CPU)
                .add(GET_NUMA_NODE_ID, (m, r1, r2, r3, r4, r5) -> node)
                .add(STRTOL, BpfStrtol::strtol)
                .add(STRTOUL, BpfStrtol::strtoul)
                .add(STRNCMP, BaseHelpers::strncmp)
                .add(SNPRINTF, BpfSnprintf::snprintf)
                .add(TRACE_VPRINTK, TracePrintk::vprintk)
                .add(GET_BRANCH_SNAPSHOT, BaseHelpers::getBranchSnapshot);
        RingBufHelpers.addTo(b);
        QueueStackHelpers.addTo(b);
        if (clocks.knowsTick()) {
            b.add(KTIME_GET_COARSE_NS, (m, r1, r2, r3, r4, r5) -> clocks.coarseNs());
        }
        if (clocks.knowsJiffies()) {
            b.add(JIFFIES64, (m, r1, r2, r3, r4, r5) -> clocks.jiffies64());
        }
        if (clocks.knowsTai()) {
            b.add(KTIME_GET_TAI_NS, (m, r1, r2, r3, r4, r5) -> clocks.taiNs());
        }
        return b.build();
    }

    /**
     * numa_node_id() of a CPU: the node whose link sysfs puts in the CPU's directory
     * ({@code /sys/devices/system/cpu/cpu0/node0}); 0 on a host without NUMA, as the kernel says.
     */
    static int numaNodeOfCpu(int cpu) {
        Pattern node = Pattern.compile("node(\\d+)");
        try (Stream<Path> entries = Files.list(Path.of("/sys/devices/system/cpu/cpu" + cpu))) {
            return entries.map(p -> node.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .mapToInt(mt -> Integer.parseInt(mt.group(1)))
                    .findFirst().orElse(0);
        } catch (IOException | SecurityException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** void *bpf_map_lookup_elem(map, key): the value's address or NULL. */
    static long mapLookupElem(Machine m, long map, long key, long r3, long r4, long r5) {
        BpfMapOps em = elementMap(m, map, "bpf_map_lookup_elem#1");
        return em.lookupElem(m, m.readBytes(key, em.spec().keySize()));
    }

    /**
     * void *bpf_map_lookup_percpu_elem(map, key, u32 cpu): CPU {@code cpu}'s value or NULL (no
     * such key, or a cpu at or past nr_cpu_ids). The verifier passes per-CPU arrays and hashes only.
     */
    static long mapLookupPercpuElem(Machine m, long map, long key, long cpu, long r4, long r5) {
        BpfMapOps em = elementMap(m, map, "bpf_map_lookup_percpu_elem#195");
        int i = em.lookupIndex(m.readBytes(key, em.spec().keySize()));
        return i < 0 ? 0 : em.percpuValueAddress(i, (int) cpu);
    }

    /** long bpf_map_update_elem(map, key, value, flags): 0 or a negative errno. */
    static long mapUpdateElem(Machine m, long map, long key, long value, long flags, long r5) {
        BpfMapOps em = elementMap(m, map, "bpf_map_update_elem#2");
        byte[] k = m.readBytes(key, em.spec().keySize());
        byte[] v = m.readBytes(value, em.spec().valueSize());
        return em.updateElem(k, v, flags);
    }

    /** long bpf_map_delete_elem(map, key): 0 or a negative errno. */
    static long mapDeleteElem(Machine m, long map, long key, long r3, long r4, long r5) {
        BpfMapOps em = elementMap(m, map, "bpf_map_delete_elem#3");
        return em.deleteElem(m.readBytes(key, em.spec().keySize()));
    }

    /**
     * long bpf_get_branch_snapshot(void *buf, u32 size, u64 flags): the CPU's last branch records.
     * The engine has none, so it answers as the kernel does on a CPU without them (a VM here:
     * measured, `helper-branch-snapshot`): -EINVAL for any flag, else -ENOENT, the buffer
     * untouched. A host with LBR gives the kernel entries instead.
     */
    private static long getBranchSnapshot(Machine m, long buf, long size, long flags, long r4, long r5) {
        return flags != 0 ? -Errno.EINVAL.number() : -Errno.ENOENT.number();
    }

    /**
     * long bpf_strncmp(s1, u32 s1_sz, s2): the kernel's strncmp(s1, s2, s1_sz), which compares
     * bytes as unsigned chars and answers -1, 0 or 1, stopping at a difference, at a NUL of both,
     * or after s1_sz bytes. s2 is the verifier-checked string of a read-only map (NUL-terminated),
     * so the comparison never reads past it.
     */
    static long strncmp(Machine m, long s1, long s1Size, long s2, long r4, long r5) {
        long n = s1Size & 0xffffffffL;
        for (long i = 0; i < n; i++) {
            long c1 = m.load(s1 + i, 1) & 0xff;
            long c2 = m.load(s2 + i, 1) & 0xff;
            if (c1 != c2) {
                return c1 < c2 ? -1 : 1;
            }
            if (c1 == 0) {
                break;
            }
        }
        return 0;
    }

    /** The map of r1, refused as the verifier's check_map_func_compatibility refuses cgroup storage. */
    private static BpfMapOps elementMap(Machine m, long map, String helper) {
        BpfMapOps em = m.mapObject(map).map();
        if (!em.helperAccessible()) {
            throw new Fault("cannot pass map_type " + em.spec().type().value() + " into func " + helper);
        }
        return em;
    }
}
