package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.TestRun;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@link Backend} on the host kernel's bpf(2). Every program and map it makes is a kernel fd
 * that this backend tracks; {@link #close()} closes whatever the caller has not closed yet.
 *
 * <p>Names: the kernel accepts only {@code [A-Za-z0-9_.]} in prog_name/map_name and keeps 15
 * bytes. Scenario names are the user's, so other characters become {@code _} in the kernel's copy
 * (the name is cosmetic there: bpftool shows it); {@link LoadedProg#name()} keeps the original.
 */
public final class KernelBackend implements Backend {
    /**
     * Room beyond the input packet for BPF_PROG_TEST_RUN's data_out. socket_filter and cgroup_skb
     * programs cannot grow the packet; a larger output is the kernel's ENOSPC.
     */
    static final int DATA_OUT_HEADROOM = 4096;

    private final Set<KernelObject> open = new LinkedHashSet<>();
    private boolean closed;

    /** Whether bpf(2) is usable here, and if not, why (one line). */
    public static BpfAvailability availability() {
        return BpfAvailability.probe();
    }

    @Override
    public String name() {
        return "kernel";
    }

    @Override
    public LoadedProg load(LoadRequest request) throws BpfException {
        ensureOpen();
        int expected = request.expectedAttach() == null ? 0 : request.expectedAttach().value();
        ProgLoad.Loaded loaded = ProgLoad.progLoad(request.type().value(), request.program().encode(),
                request.license(), kernelName(request.name()), expected, request.logLevel());
        return track(new KernelProg(this, loaded.fd(), request.name(), request.type(), loaded.log()));
    }

    @Override
    public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException {
        ensureOpen();
        KernelProg p = own(prog);
        byte[] data = request.dataIn() == null ? new byte[0] : request.dataIn();
        ProgTestRun.Result r = ProgTestRun.progTestRun(p.fd(), new ProgTestRun.Request(
                data, data.length + DATA_OUT_HEADROOM, request.repeat(), null, 0, 0, 0));
        return new TestRun.Result(r.retval(), r.dataOut(), r.durationNs());
    }

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        ensureOpen();
        Fd fd = MapCreate.mapCreate(spec.type().value(), spec.keySize(), spec.valueSize(), spec.maxEntries(),
                spec.flags(), kernelName(spec.name()));
        return track(new KernelMap(this, fd, spec));
    }

    @Override
    public void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        checkSize("value", value, m.valueBytes(), m);
        MapElem.updateElem(m.handle(), key, value, flags);
    }

    @Override
    public byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        return MapElem.lookupElem(m.handle(), key, m.valueBytes(), 0);
    }

    @Override
    public void delete(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        MapElem.deleteElem(m.handle(), key);
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        if (key != null) {
            checkSize("key", key, m.spec().keySize(), m);
        }
        return MapElem.getNextKey(m.handle(), key, m.spec().keySize());
    }

    /** Closes every program and map still open, newest first. Idempotent. */
    @Override
    public void close() {
        List<KernelObject> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(open);
            open.clear();
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
    }

    /** Number of programs and maps this backend holds open (for tests and diagnostics). */
    public synchronized int openCount() {
        return open.size();
    }

    synchronized void forget(KernelObject o) {
        open.remove(o);
    }

    private synchronized <T extends KernelObject> T track(T o) {
        open.add(o);
        return o;
    }

    private synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the kernel backend is closed");
        }
    }

    private KernelProg own(LoadedProg prog) {
        if (prog instanceof KernelProg p && p.owner() == this && p.fd().isOpen()) {
            return p;
        }
        throw new IllegalArgumentException(prog + " is not an open program of this kernel backend");
    }

    private KernelMap own(BpfMap map) {
        if (map instanceof KernelMap m && m.owner() == this && m.handle().isOpen()) {
            return m;
        }
        throw new IllegalArgumentException(map + " is not an open map of this kernel backend");
    }

    /**
     * The kernel copies exactly key_size/value_size bytes from user memory, whatever the Java array
     * holds, so a wrong length is refused here, before the kernel could read past our copy. It is
     * EINVAL as in the engine backend, so that both backends answer a scenario alike.
     */
    private static void checkSize(String what, byte[] bytes, int expected, KernelMap m) throws BpfException {
        if (bytes == null || bytes.length != expected) {
            throw new BpfException(Errno.EINVAL, what + " of " + (bytes == null ? "null" : bytes.length + " bytes")
                    + " for map '" + m.spec().name() + "', which takes " + expected + " bytes");
        }
    }

    /** The name as the kernel will take it: only [A-Za-z0-9_.], others as '_'. */
    static String kernelName(String name) {
        if (name == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(name.length());
        name.codePoints().forEach(c -> b.append(
                c < 128 && ObjName.kernelAccepts(Character.toString(c)) ? (char) c : '_'));
        return b.toString();
    }
}
