package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.isa.Insn;

/**
 * BPF_PROG_LOAD with the verifier log.
 *
 * <p>Log handling, as the kernel (6.4+) behaves: when the log does not fit the buffer the load
 * fails with ENOSPC even if the program verified, and the kernel writes the size it needed into
 * log_true_size. The load is then repeated with a buffer of that size (or twice the size on
 * kernels that do not report it), so the caller always sees the complete log and the real errno.
 * A failed load at log level 0 is repeated once at level 1 so that the exception carries the
 * verifier's reason (libbpf does the same); the errno is the first attempt's.
 */
public final class ProgLoad {
    public static final UapiField PROG_TYPE = UapiField.attr("prog_type", 0, 4);
    public static final UapiField INSN_CNT = UapiField.attr("insn_cnt", 4, 4);
    public static final UapiField INSNS = UapiField.attr("insns", 8, 8);
    public static final UapiField LICENSE = UapiField.attr("license", 16, 8);
    public static final UapiField LOG_LEVEL = UapiField.attr("log_level", 24, 4);
    public static final UapiField LOG_SIZE = UapiField.attr("log_size", 28, 4);
    public static final UapiField LOG_BUF = UapiField.attr("log_buf", 32, 8);
    public static final UapiField PROG_FLAGS = UapiField.attr("prog_flags", 44, 4);
    public static final UapiField PROG_NAME = UapiField.attr("prog_name", 48, 16);
    public static final UapiField EXPECTED_ATTACH_TYPE = UapiField.attr("expected_attach_type", 68, 4);
    /** Since Linux 6.4; older kernels accept the attr as long as the field is zero on input. */
    public static final UapiField LOG_TRUE_SIZE = UapiField.attr("log_true_size", 140, 4);

    /** First log buffer; large enough for most level-1 logs, grown on ENOSPC. */
    static final int DEFAULT_LOG_SIZE = 64 * 1024;
    /** Upper bound of the retries (the kernel itself refuses log_size above UINT_MAX >> 2). */
    static final int MAX_LOG_SIZE = 256 * 1024 * 1024;
    /**
     * The verifier gives up with EAGAIN when a signal is pending for the thread (do_check checks
     * signal_pending); the JVM does use signals, so a load is tried this often, as libbpf does.
     */
    static final int EAGAIN_ATTEMPTS = 5;

    /** A loaded program: the fd (the caller owns it) and the log at the requested level. */
    public record Loaded(Fd fd, String log) {
    }

    private ProgLoad() {
    }

    /**
     * @param insns the instruction slots in the kernel's wire form ({@code Program.encode()})
     * @param expectedAttachType enum bpf_attach_type, 0 when the program type needs none
     * @param logLevel the kernel's log_level (0, 1, 2, with its flag bits)
     */
    public static Loaded progLoad(int progType, byte[] insns, String license, String name,
                                  int expectedAttachType, int logLevel) throws BpfException {
        return progLoad(progType, insns, license, name, expectedAttachType, logLevel, DEFAULT_LOG_SIZE);
    }

    static Loaded progLoad(int progType, byte[] insns, String license, String name,
                           int expectedAttachType, int logLevel, int initialLogSize) throws BpfException {
        if (insns.length % Insn.SIZE != 0) {
            throw new IllegalArgumentException("instruction bytes " + insns.length + " are not a multiple of 8");
        }
        Attempt first = attempt(progType, insns, license, name, expectedAttachType, logLevel, initialLogSize);
        if (first.fd != null) {
            return new Loaded(first.fd, first.log);
        }
        String log = first.log;
        if (logLevel == 0) {
            Attempt explain = attempt(progType, insns, license, name, expectedAttachType, 1, initialLogSize);
            if (explain.fd != null) {
                // cannot really happen (same program); never keep an fd nobody owns
                explain.fd.close();
            } else {
                log = explain.log;
            }
        }
        throw BpfSyscall.failure(BpfCmd.BPF_PROG_LOAD, first.errno, "program '" + name + "'", log);
    }

    private record Attempt(Fd fd, int errno, String log) {
    }

    /** One logical load: repeated while the log does not fit. */
    private static Attempt attempt(int progType, byte[] insns, String license, String name,
                                   int expectedAttachType, int logLevel, int initialLogSize) {
        int logSize = logLevel == 0 ? 0 : initialLogSize;
        int eagainLeft = EAGAIN_ATTEMPTS;
        while (true) {
            try (BpfAttr attr = new BpfAttr(LOG_TRUE_SIZE);
                 UserMem code = UserMem.of(insns);
                 UserMem lic = UserMem.cString(license);
                 UserMem logBuf = UserMem.zeroed(logSize)) {
                attr.u32(PROG_TYPE, progType);
                attr.u32(INSN_CNT, insns.length / Insn.SIZE);
                attr.ptr(INSNS, code);
                attr.ptr(LICENSE, lic);
                attr.u32(LOG_LEVEL, logLevel);
                attr.u32(LOG_SIZE, logSize);
                attr.ptr(LOG_BUF, logBuf);
                attr.u32(PROG_FLAGS, 0);
                attr.chars(PROG_NAME, ObjName.truncated(name));
                attr.u32(EXPECTED_ATTACH_TYPE, expectedAttachType);
                long ret = BpfSyscall.invoke(BpfCmd.BPF_PROG_LOAD, attr);
                String log = logSize == 0 ? "" : logBuf.cStringValue();
                if (ret >= 0) {
                    return new Attempt(new Fd((int) ret), 0, log);
                }
                int errno = (int) -ret;
                if (errno == Errno.EAGAIN.number() && --eagainLeft > 0) {
                    continue;
                }
                if (errno == Errno.ENOSPC.number() && logSize > 0 && logSize < MAX_LOG_SIZE) {
                    int trueSize = attr.u32(LOG_TRUE_SIZE);
                    logSize = (int) Math.min(MAX_LOG_SIZE, Math.max(trueSize, 2L * logSize));
                    continue;
                }
                return new Attempt(null, errno, log);
            }
        }
    }
}
