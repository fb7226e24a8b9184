package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Machine;

import java.util.ArrayList;
import java.util.List;

/**
 * A remote-control receiver with lirc_mode2 programs attached (drivers/media/rc/bpf-lirc.c): not
 * a cgroup, a device whose fd is the attach target. Up to 64 programs (BPF_MAX_PROGS, E2BIG
 * beyond), each at most once (EEXIST), no attach flags (EINVAL), detach of one not attached
 * ENOENT, query in attach order with ENOSPC for a short buffer. Every decoded sample runs all
 * programs in order; their return values are ignored, what they report goes through
 * bpf_rc_keydown (78), bpf_rc_repeat (77) and bpf_rc_pointer_rel (92) and is collected as
 * {@link Event}s.
 */
public final class LircDevice {
    /** BPF_MAX_PROGS of bpf-lirc.c. */
    public static final int MAX_PROGS = 64;
    public static final int RC_REPEAT = 77;
    public static final int RC_KEYDOWN = 78;
    public static final int RC_POINTER_REL = 92;

    static final HelperTable HELPERS = HelperTable.builder()
            .addAll(BaseHelpers.TABLE)
            .add(RC_REPEAT, (m, ctx, r2, r3, r4, r5) -> device(m).report(new Event("repeat", 0, 0, 0)))
            .add(RC_KEYDOWN, (m, ctx, protocol, scancode, toggle, r5) ->
                    device(m).report(new Event("keydown", protocol & 0xffffffffL, scancode, toggle & 0xffffffffL)))
            .add(RC_POINTER_REL, (m, ctx, x, y, r4, r5) -> device(m).report(new Event("pointer_rel", (int) x, (int) y, 0)))
            .build();

    /** What a program reported through an rc helper. */
    public record Event(String kind, long a, long b, long c) {
    }

    /** A query answer: the programs that fit, the total count, and whether the buffer was short (ENOSPC). */
    public record Query(List<CgroupProg> progs, int count, boolean noSpace) {
    }

    private final ProgExecutor executor;
    private final List<CgroupProg> progs = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();

    public LircDevice(ProgExecutor executor) {
        this.executor = executor;
    }

    private static LircDevice device(Machine m) {
        return m.env(LircDevice.class);
    }

    private long report(Event e) {
        events.add(e);
        return 0;
    }

    /** lirc_prog_attach. */
    public synchronized void attach(CgroupProg prog, int attachFlags) throws BpfException {
        if (attachFlags != 0) {
            throw new BpfException(Errno.EINVAL, "lirc_mode2 takes no attach flags");
        }
        if (prog.type() != ProgType.LIRC_MODE2) {
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' is " + prog.type().scenarioName()
                    + ", not lirc_mode2");
        }
        if (progs.size() >= MAX_PROGS) {
            throw new BpfException(Errno.E2BIG, "the device already has " + MAX_PROGS + " programs");
        }
        if (progs.contains(prog)) {
            throw new BpfException(Errno.EEXIST, "program '" + prog.name() + "' is already attached");
        }
        progs.add(prog);
    }

    /** lirc_prog_detach. */
    public synchronized void detach(CgroupProg prog) throws BpfException {
        if (prog.type() != ProgType.LIRC_MODE2) {
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' is not lirc_mode2");
        }
        if (!progs.remove(prog)) {
            throw new BpfException(Errno.ENOENT, "program '" + prog.name() + "' is not attached");
        }
    }

    /** lirc_prog_query with an id buffer of {@code bufferSize} (0: count only). */
    public synchronized Query query(int bufferSize) {
        if (bufferSize < 0) {
            throw new IllegalArgumentException("buffer size must be >= 0");
        }
        int n = progs.size();
        if (bufferSize == 0 || n == 0) {
            return new Query(List.of(), n, false);
        }
        return new Query(List.copyOf(progs.subList(0, Math.min(n, bufferSize))), n, bufferSize < n);
    }

    /** One decoded sample (lirc_bpf_run): every program runs; returns what they reported. */
    public synchronized List<Event> sample(int sample) {
        events.clear();
        for (CgroupProg p : List.copyOf(progs)) {
            executor.execute(p, new LircMode2Ctx(sample), this);
        }
        return List.copyOf(events);
    }
}
