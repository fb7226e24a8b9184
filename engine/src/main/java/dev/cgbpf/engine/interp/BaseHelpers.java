package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.maps.EngineMap;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The helpers every program type gets (the kernel's bpf_base_func_proto), as far as the engine
 * has them: the map element helpers, bpf_ktime_get_ns and bpf_get_prandom_u32.
 */
public final class BaseHelpers {
    public static final int MAP_LOOKUP_ELEM = 1;
    public static final int MAP_UPDATE_ELEM = 2;
    public static final int MAP_DELETE_ELEM = 3;
    public static final int KTIME_GET_NS = 5;
    public static final int GET_PRANDOM_U32 = 7;

    private BaseHelpers() {
    }

    public static final HelperTable TABLE = HelperTable.builder()
            .add(MAP_LOOKUP_ELEM, BaseHelpers::mapLookupElem)
            .add(MAP_UPDATE_ELEM, BaseHelpers::mapUpdateElem)
            .add(MAP_DELETE_ELEM, BaseHelpers::mapDeleteElem)
            .add(KTIME_GET_NS, (m, r1, r2, r3, r4, r5) -> System.nanoTime())
            .add(GET_PRANDOM_U32, (m, r1, r2, r3, r4, r5) -> ThreadLocalRandom.current().nextInt() & 0xffffffffL)
            .build();

    /** void *bpf_map_lookup_elem(map, key): the value's address or NULL. */
    static long mapLookupElem(Machine m, long map, long key, long r3, long r4, long r5) {
        EngineMap em = elementMap(m, map, "bpf_map_lookup_elem#1");
        int i = em.lookupIndex(m.readBytes(key, em.spec().keySize()));
        return i < 0 ? 0 : em.valueAddress(i);
    }

    /** long bpf_map_update_elem(map, key, value, flags): 0 or a negative errno. */
    static long mapUpdateElem(Machine m, long map, long key, long value, long flags, long r5) {
        EngineMap em = elementMap(m, map, "bpf_map_update_elem#2");
        byte[] k = m.readBytes(key, em.spec().keySize());
        byte[] v = m.readBytes(value, em.spec().valueSize());
        return em.updateElem(k, v, flags);
    }

    /** long bpf_map_delete_elem(map, key): 0 or a negative errno. */
    static long mapDeleteElem(Machine m, long map, long key, long r3, long r4, long r5) {
        EngineMap em = elementMap(m, map, "bpf_map_delete_elem#3");
        return em.deleteElem(m.readBytes(key, em.spec().keySize()));
    }

    /** The map of r1, refused as the verifier's check_map_func_compatibility refuses cgroup storage. */
    private static EngineMap elementMap(Machine m, long map, String helper) {
        EngineMap em = m.mapObject(map).map();
        if (!em.helperAccessible()) {
            throw new Fault("cannot pass map_type " + em.spec().type().value() + " into func " + helper);
        }
        return em;
    }
}
