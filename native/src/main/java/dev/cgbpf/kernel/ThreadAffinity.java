package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * sched_setaffinity of the calling thread: what the kernel's own LRU selftest does (it pins
 * itself to one CPU), since which element an LRU hash evicts depends on the CPU each update runs
 * on (its local free and pending lists), and a per-CPU map's value on the CPU a test run uses.
 * A JVM thread is one kernel task, so pid 0 pins only it.
 */
final class ThreadAffinity {
    /** sizeof(cpu_set_t) in glibc: 1024 CPUs. */
    private static final int CPU_SET_BYTES = 128;

    private ThreadAffinity() {
    }

    /** Pins the calling thread to {@code cpu}; closing the handle (on the same thread) gives it its former CPUs back. */
    static AutoCloseable pin(int cpu) throws BpfException {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            throw new BpfException(dev.cgbpf.engine.backend.Errno.EINVAL, "no CPU " + cpu);
        }
        byte[] before = new byte[CPU_SET_BYTES];
        if (LibC.INSTANCE.sched_getaffinity(0, CPU_SET_BYTES, before) != 0) {
            throw BpfException.ofNumber(SysErrno.last(), "sched_getaffinity failed", null);
        }
        byte[] only = new byte[CPU_SET_BYTES];
        only[cpu / 8] = (byte) (1 << (cpu % 8));
        if (LibC.INSTANCE.sched_setaffinity(0, CPU_SET_BYTES, only) != 0) {
            throw BpfException.ofNumber(SysErrno.last(), "sched_setaffinity to CPU " + cpu + " failed", null);
        }
        return () -> LibC.INSTANCE.sched_setaffinity(0, CPU_SET_BYTES, before);
    }
}
