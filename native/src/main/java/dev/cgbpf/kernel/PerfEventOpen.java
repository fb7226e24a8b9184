package dev.cgbpf.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import dev.cgbpf.engine.backend.BpfException;
import java.util.Locale;

/**
 * perf_event_open(2) of the event bpf_perf_event_output writes to. glibc does not wrap it; the
 * number is per architecture, as {@link BpfSyscall}'s.
 */
final class PerfEventOpen {
    private PerfEventOpen() {
    }

    /** PERF_ATTR_SIZE_VER5: every field up to aux_watermark, enough for what this event sets. */
    static final int ATTR_SIZE = 112;
    static final int PERF_TYPE_SOFTWARE = 1;
    static final int PERF_COUNT_SW_BPF_OUTPUT = 10;
    static final long PERF_SAMPLE_RAW = 1L << 10;
    /** PERF_FLAG_FD_CLOEXEC */
    static final long FD_CLOEXEC = 1L << 3;

    private static long nr(int x86, int generic) {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> x86;
            case "aarch64", "riscv64", "loongarch64" -> generic; // the asm-generic table
            default -> throw new UnsupportedOperationException("no syscall numbers for architecture " + arch);
        };
    }

    /**
     * The software BPF_OUTPUT event on {@code cpu} for every task (pid -1, no group), enabled,
     * sampling every output (sample_period 1) with PERF_SAMPLE_RAW, a wakeup per record.
     */
    static Fd open(int cpu) throws BpfException {
        Memory attr = new Memory(ATTR_SIZE);
        attr.clear();
        attr.setInt(0, PERF_TYPE_SOFTWARE);          // type
        attr.setInt(4, ATTR_SIZE);                   // size
        attr.setLong(8, PERF_COUNT_SW_BPF_OUTPUT);   // config
        attr.setLong(16, 1);                         // sample_period
        attr.setLong(24, PERF_SAMPLE_RAW);           // sample_type
        attr.setInt(48, 1);                          // wakeup_events
        long ret = LibC.INSTANCE.syscall(nr(298, 241), attr, -1L, (long) cpu, -1L, FD_CLOEXEC);
        if (ret < 0) {
            int errno = Native.getLastError();
            throw SysErrno.exception(errno, "perf_event_open of a BPF_OUTPUT event on CPU " + cpu + ": "
                    + SysErrno.name(errno));
        }
        return new Fd((int) ret);
    }
}
