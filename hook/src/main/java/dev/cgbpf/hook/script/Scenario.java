package dev.cgbpf.hook.script;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.Probe;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a running scenario has made so far, under the names the scenario gave it. Progs and maps
 * have separate name spaces, as in a scenario file they are referenced by different fields.
 * Closing releases everything, programs before the maps they may reference.
 */
final class Scenario implements AutoCloseable {
    private final Backend backend;
    private final Map<String, LoadedProg> progs = new LinkedHashMap<>();
    private final Map<String, BpfMap> maps = new LinkedHashMap<>();
    private final List<Listener> listeners = new ArrayList<>();
    private final Map<String, PerfEvent> perfEvents = new LinkedHashMap<>();
    private AutoCloseable pin;

    Scenario(Backend backend) {
        this.backend = backend;
    }

    Backend backend() {
        return backend;
    }

    LoadedProg prog(String name) throws MalformedLineException {
        return named(progs, "prog", name, "loaded");
    }

    BpfMap map(String name) throws MalformedLineException {
        return named(maps, "map", name, "created");
    }

    /** The object an earlier line made under this name; a malformed line when there is none. */
    private static <T> T named(Map<String, T> objects, String kind, String name, String made)
            throws MalformedLineException {
        T o = objects.get(name);
        if (o == null) {
            throw new MalformedLineException("no " + kind + " named '" + name + "' was " + made + " before this line");
        }
        return o;
    }

    /** A name an op is about to give must be new among the objects of its kind. */
    private static void checkNew(Map<String, ?> objects, String kind, String name) throws MalformedLineException {
        if (objects.containsKey(name)) {
            throw new MalformedLineException("a " + kind + " named '" + name + "' already exists");
        }
    }

    /** The fd of a map by name, for {@code rN = map[NAME]} in assembly; null when unknown. */
    Integer mapFd(String name) {
        BpfMap m = maps.get(name);
        return m == null ? null : m.fd();
    }

    void checkNewProgName(String name) throws MalformedLineException {
        checkNew(progs, "prog", name);
    }

    void checkNewMapName(String name) throws MalformedLineException {
        checkNew(maps, "map", name);
    }

    void addProg(String name, LoadedProg prog) {
        progs.put(name, prog);
    }

    /** The runner's thread stays on one CPU until the scenario ends (op pin); a second pin replaces the first. */
    void pin(AutoCloseable handle) {
        closePin();
        pin = handle;
    }

    private void closePin() {
        if (pin != null) {
            try {
                pin.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot unpin the runner's thread", e);
            } finally {
                pin = null;
            }
        }
    }

    void addMap(String name, BpfMap map) {
        maps.put(name, map);
    }

    PerfEvent perfEvent(String name) throws MalformedLineException {
        return named(perfEvents, "perf event", name, "opened");
    }

    void checkNewPerfEventName(String name) throws MalformedLineException {
        checkNew(perfEvents, "perf event", name);
    }

    void addPerfEvent(String name, PerfEvent e) {
        perfEvents.put(name, e);
    }

    void addListener(Listener l) {
        listeners.add(l);
    }

    /**
     * The listener at an address a backend reported. Java may hand an inet6 socket's v4-mapped
     * address back as IPv4, so addresses compare in their v4-mapped form.
     */
    Optional<Listener> listener(InetAddress addr, int port, Probe.Proto proto) {
        byte[] want = LoopbackAddress.v4Mapped(addr.getAddress());
        return listeners.stream()
                .filter(l -> l.port() == port && l.proto() == proto && Arrays.equals(LoopbackAddress.v4Mapped(l.addr().bytes()), want))
                .findFirst();
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>(progs.values());
        Collections.reverse(all);
        List<AutoCloseable> ms = new ArrayList<>(maps.values());
        Collections.reverse(ms);
        all.addAll(ms);
        all.addAll(perfEvents.values());
        progs.clear();
        maps.clear();
        perfEvents.clear();
        RuntimeException first = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                // keep closing the rest; report the first failure after
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        closePin();
        if (first != null) {
            throw first;
        }
    }
}
