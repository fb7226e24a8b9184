package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.PolicyException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * For random OCI rule lists and random accesses, the compiled cgroup_device program's decision in
 * the engine equals a plain reference evaluator written here from the documented semantics
 * (runc's v1 emulation: 'a' resets, exact-pattern exceptions gain or lose bits, hole punching is
 * an error; whitelist match = subset, blacklist match = shared bit).
 */
class DeviceCompilerPropertyTest {
    private static final long[] MAJORS = {DeviceRule.ANY, 0, 1, 5, 0x7fffffffL, 0x80000000L, 0xffffffffL};
    private static final long[] PROBE_NUMBERS = {0, 1, 2, 5, 0x7fffffffL, 0x80000000L, 0xffffffffL};

    /** The reference: a list of [type, major, minor, bits] replayed rule by rule; null = runc error. */
    static Boolean reference(List<DeviceRule> rules, char type, long major, long minor, int access) {
        boolean defaultAllow = false;
        List<long[]> ex = new ArrayList<>();
        for (DeviceRule r : rules) {
            if (r.type() == DeviceType.ALL) {
                defaultAllow = r.allow();
                ex.clear();
                continue;
            }
            long t = r.type().letter();
            long[] same = null;
            for (long[] e : ex) {
                if (e[0] == t && e[1] == r.major() && e[2] == r.minor()) {
                    same = e;
                }
            }
            if (r.allow() != defaultAllow) {
                if (same == null) {
                    ex.add(new long[] {t, r.major(), r.minor(), r.access()});
                } else {
                    same[3] |= r.access();
                }
                continue;
            }
            for (long[] e : ex) {
                boolean partial = e[0] == t && e != same
                        && (e[1] == DeviceRule.ANY || e[1] == r.major()) && (e[2] == DeviceRule.ANY || e[2] == r.minor())
                        && (e[1] == DeviceRule.ANY && e[2] == r.minor() || e[1] == r.major() && e[2] == DeviceRule.ANY
                            || e[1] == DeviceRule.ANY && e[2] == DeviceRule.ANY);
                if (partial && (e[3] & r.access()) != 0) {
                    return null;
                }
            }
            if (same != null) {
                same[3] &= ~r.access();
                if (same[3] == 0) {
                    ex.remove(same);
                }
            }
        }
        for (long[] e : ex) {
            boolean hit = e[0] == type && (e[1] == DeviceRule.ANY || e[1] == major) && (e[2] == DeviceRule.ANY || e[2] == minor);
            if (hit && !defaultAllow && (access & ~e[3]) == 0) {
                return true;
            }
            if (hit && defaultAllow && (access & e[3]) != 0) {
                return false;
            }
        }
        return defaultAllow;
    }

    static DeviceRule randomRule(Random rnd) {
        DeviceType t = rnd.nextInt(12) == 0 ? DeviceType.ALL : rnd.nextBoolean() ? DeviceType.CHAR : DeviceType.BLOCK;
        long major = MAJORS[rnd.nextInt(MAJORS.length)];
        long minor = MAJORS[rnd.nextInt(MAJORS.length)];
        return new DeviceRule(rnd.nextBoolean(), t, major, minor, 1 + rnd.nextInt(7), "random");
    }

    @Test
    void compiledProgramAgreesWithTheReference() throws Exception {
        Random rnd = new Random(0xC6B9F);
        EngineRun engine = new EngineRun();
        EngineBackend verifier = new EngineBackend();
        BpfMap verifierCounters = verifier.createMap(DenialCounters.SPEC);
        int[] shapes = new int[DeviceShape.values().length];
        int lists = 0;
        int errors = 0;
        int probes = 0;
        int allowed = 0;
        for (int round = 0; round < 600; round++) {
            List<DeviceRule> rules = new ArrayList<>();
            int n = rnd.nextInt(14);
            for (int i = 0; i < n; i++) {
                rules.add(randomRule(rnd));
            }
            Boolean probe = reference(rules, 'c', 0, 0, 1);
            if (probe == null) {
                assertThrows(PolicyException.class, () -> DevicesEmulator.merge(rules), rules::toString);
                errors++;
                continue;
            }
            DeviceAllowlist list = DevicesEmulator.merge(rules);
            // both shapes, the maps shape only where it has something to look up (DeviceShape)
            List<Interpreter> progs = new ArrayList<>();
            for (DeviceShape shape : DeviceShape.values()) {
                if (shape == DeviceShape.MAPS && list.exceptions().isEmpty()) {
                    continue;
                }
                CompiledProgram cp = DeviceCompiler.program("cgbpf_dev", list, DenialCounters.UNBOUND, shape);
                verifyOnEngine(verifier, verifierCounters, cp);
                progs.add(engine.decode(cp.withCounters(EngineRun.COUNTER_FD)));
                shapes[shape.ordinal()]++;
            }
            lists++;
            for (int k = 0; k < 40; k++) {
                char type = rnd.nextBoolean() ? 'c' : 'b';
                long major = PROBE_NUMBERS[rnd.nextInt(PROBE_NUMBERS.length)];
                long minor = PROBE_NUMBERS[rnd.nextInt(PROBE_NUMBERS.length)];
                int access = 1 + rnd.nextInt(7);
                boolean expected = reference(rules, type, major, minor, access);
                String what = rules + " on " + type + " " + major + ":" + minor + " access " + access;
                for (int s = 0; s < progs.size(); s++) {
                    long denialsBefore = engine.count(DenialReason.DEVICE);
                    long r0 = engine.run(progs.get(s), new BpfCgroupDevCtx(type == 'c' ? BpfCgroupDevCtx.DEV_CHAR
                            : BpfCgroupDevCtx.DEV_BLOCK, access, (int) major, (int) minor));
                    String shaped = DeviceShape.values()[s] + ": " + what;
                    assertEquals(expected ? 1 : 0, r0, shaped);
                    assertEquals(denialsBefore + (expected ? 0 : 1), engine.count(DenialReason.DEVICE), "counter: " + shaped);
                }
                assertEquals(expected, list.allows(type == 'c' ? DeviceType.CHAR : DeviceType.BLOCK, major, minor, access), what);
                probes++;
                allowed += expected ? 1 : 0;
            }
        }
        System.out.printf("device property test: %d rule lists compiled (%d linear, %d maps programs verified by the engine),"
                + " %d refused as runc refuses them, %d probes, %d allowed%n",
                lists, shapes[0], shapes[1], errors, probes, allowed);
        verifier.close();
        assertTrue(shapes[1] > 250, "the maps shape must be exercised: " + shapes[1]);
        assertTrue(lists > 300 && errors > 10 && allowed > probes / 10 && allowed < probes * 9 / 10,
                "the random lists must exercise both outcomes and the error path");
    }

    /** Loads {@code p} (counters bound) into the engine, its own map made and filled there: the engine's verifier accepts it. */
    static void verifyOnEngine(EngineBackend b, BpfMap counters, CompiledProgram p) throws Exception {
        if (p.map() == null) {
            b.load(p.withCounters(counters.fd()).loadRequest(0)).close();
            return;
        }
        try (BpfMap m = b.createMap(p.map().spec())) {
            for (ProgramMap.Entry e : p.map().entries()) {
                b.update(m, e.key(), e.value(), 0);
            }
            b.load(p.bind(counters.fd(), m.fd()).loadRequest(0)).close();
        }
    }

    @Test
    void ociExamples() throws Exception {
        EngineRun engine = new EngineRun();
        // deny all, allow /dev/zero rw, then take write away again: read stays, write and rw go
        List<DeviceRule> rules = List.of(
                DeviceRule.of(false, DeviceType.ALL, DeviceRule.ANY, DeviceRule.ANY, "rwm"),
                DeviceRule.of(true, DeviceType.CHAR, 1, 5, "rw"),
                DeviceRule.of(true, DeviceType.CHAR, 1, 3, "rwm"),
                DeviceRule.of(false, DeviceType.CHAR, 1, 5, "w"));
        Interpreter p = engine.decode(DeviceCompiler.compile(rules));
        int c = BpfCgroupDevCtx.DEV_CHAR;
        assertEquals(1, engine.run(p, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_READ, 1, 5)));
        assertEquals(0, engine.run(p, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_WRITE, 1, 5)));
        assertEquals(0, engine.run(p, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_READ | BpfCgroupDevCtx.ACC_WRITE, 1, 5)));
        assertEquals(1, engine.run(p, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_READ | BpfCgroupDevCtx.ACC_WRITE, 1, 3)));
        assertEquals(0, engine.run(p, new BpfCgroupDevCtx(BpfCgroupDevCtx.DEV_BLOCK, BpfCgroupDevCtx.ACC_READ, 1, 3)));
        // allow all, deny writes to /dev/zero: an O_RDWR open asks for rw at once and must be refused too
        Interpreter q = engine.decode(DeviceCompiler.compile(List.of(
                DeviceRule.of(true, DeviceType.ALL, DeviceRule.ANY, DeviceRule.ANY, "rwm"),
                DeviceRule.of(false, DeviceType.CHAR, 1, 5, "w"))));
        assertEquals(0, engine.run(q, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_READ | BpfCgroupDevCtx.ACC_WRITE, 1, 5)));
        assertEquals(1, engine.run(q, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_READ, 1, 5)));
        assertEquals(1, engine.run(q, new BpfCgroupDevCtx(c, BpfCgroupDevCtx.ACC_WRITE, 1, 7)));
    }
}
