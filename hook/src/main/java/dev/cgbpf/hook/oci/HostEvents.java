package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.nio.file.Path;

/**
 * The host's denial event ring buffer ({@link DenialCounters#EVENTS_SPEC}), pinned 0600 at
 * {@link ContainerFiles#events()}: the first attach makes and pins it, every later one opens the
 * pin. It is never removed by a container's cleanup (other containers write into it); it lives
 * until the pin is removed (by hand, or a reboot) and the last program using it is gone.
 */
public final class HostEvents {
    private HostEvents() {
    }

    /** The kernel's backend (persistent: closing it removes nothing) and the ring buffer open in it. */
    public record Opened(Backend backend, BpfMap ring) implements AutoCloseable {
        /** The events the ring buffer had no room for, from a container's counter map; 0 when it cannot be read. */
        public long eventsLost(Path countersPin) {
            try (BpfMap m = backend.mapGet(countersPin, ObjAccess.READ_ONLY)) {
                byte[] key = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .putInt(DenialCounters.EVENTS_LOST).array();
                return java.nio.ByteBuffer.wrap(backend.lookup(m, key)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            } catch (BpfException | RuntimeException e) {
                return 0;
            }
        }

        @Override
        public void close() {
            ring.close();
            backend.close();
        }
    }

    /** Opens (or makes) the host's ring buffer for a reader: the daemon. */
    public static Opened open(HookSettings settings) throws HookException {
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow(() -> HookException.machine(
                "no cgroup v2 (unified) hierarchy is mounted"));
        HookBackend hb = HookBackend.kernel(v2.mountPoint(), settings.pinDir());
        try {
            return new Opened(hb.backend(), openOrCreate(hb.backend(), settings.files(0).events()));
        } catch (BpfException e) {
            hb.close();
            throw new HookException("the denial event ring buffer: " + Attach.describe(e));
        }
    }

    /** Opens the pinned ring buffer, or makes and pins it; two hooks racing both end with the same one. */
    public static BpfMap openOrCreate(Backend b, Path pin) throws BpfException {
        for (int attempt = 0; ; attempt++) {
            try {
                return check(b.objGet(pin, ObjAccess.READ_WRITE), pin);
            } catch (BpfException e) {
                if (!Errno.ENOENT.name().equals(e.errno()) || attempt > 0) {
                    throw e;
                }
            }
            Attach.mkdirs(b, pin.getParent());
            BpfMap made = b.createMap(DenialCounters.EVENTS_SPEC);
            try {
                b.objPin(made, pin);
                return made;
            } catch (BpfException e) {
                made.close();
                if (!Errno.EEXIST.name().equals(e.errno())) {
                    throw e;
                }
                // another hook pinned one first: open that one (the next round)
            }
        }
    }

    private static BpfMap check(BpfObject o, Path pin) throws BpfException {
        if (o instanceof BpfMap m && m.spec().type() == MapType.RINGBUF) {
            return m;
        }
        o.close();
        throw new BpfException(Errno.EINVAL, pin + " is not a ring buffer map (not cgbpf's event ring)");
    }
}
