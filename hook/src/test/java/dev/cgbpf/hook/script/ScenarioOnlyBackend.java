package dev.cgbpf.hook.script;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapInfo;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.ProgInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * For test doubles of {@link Backend} that the scenario runner drives: the operations the scenario
 * format has no line for (links, pins, ids and object info) are unsupported, and the lifetime is
 * {@link Lifetime#SCOPED}.
 */
interface ScenarioOnlyBackend extends Backend {
    private static UnsupportedOperationException notHere() {
        return new UnsupportedOperationException("the scenario format does not use this");
    }

    @Override
    default BpfLink linkCreate(String cgroup, LoadedProg prog, AttachType type) {
        throw notHere();
    }

    @Override
    default void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg expectedOld) {
        throw notHere();
    }

    @Override
    default void linkDetach(BpfLink link) {
        throw notHere();
    }

    @Override
    default List<Integer> queryProgIds(String cgroup, AttachType type, boolean effective) {
        throw notHere();
    }

    @Override
    default long cgroupId(String cgroup) {
        throw notHere();
    }

    @Override
    default ProgInfo progInfo(LoadedProg prog) {
        throw notHere();
    }

    @Override
    default byte[] lookupAndDelete(BpfMap map, byte[] key, long flags) {
        throw notHere();
    }

    @Override
    default MapInfo mapInfo(BpfMap map) {
        throw notHere();
    }

    @Override
    default LinkInfo linkInfo(BpfLink link) {
        throw notHere();
    }

    @Override
    default void objPin(BpfObject obj, Path path) {
        throw notHere();
    }

    @Override
    default BpfObject objGet(Path path, ObjAccess access) {
        throw notHere();
    }

    @Override
    default void unpin(Path path) {
        throw notHere();
    }

    @Override
    default void pinMkdir(Path path) {
        throw notHere();
    }

    @Override
    default void pinRmdir(Path path) {
        throw notHere();
    }

    @Override
    default List<String> pinList(Path dir) {
        throw notHere();
    }

    @Override
    default Lifetime lifetime() {
        return Lifetime.SCOPED;
    }
}
