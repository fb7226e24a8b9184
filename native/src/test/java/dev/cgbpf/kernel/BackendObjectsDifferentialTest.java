package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.EngineHost;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.ProgType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Backend operations the OCI hook needs beyond the scenario format, on the engine and on the
 * running kernel, answer for answer: the bpf file system (pin, get with access, unpin, mkdir,
 * rmdir, list; random sequences over a private bpffs mount and the engine's in-memory one at the
 * same path), cgroup links through the Backend, object info and ids, and the two lifetimes
 * (what a PERSISTENT backend leaves for the next one, what a SCOPED one takes away).
 */
class BackendObjectsDifferentialTest {
    static final int SEQUENCES = 25;
    static final int OPS = 60;
    private static Path bpffs;

    @BeforeAll
    static void mountBpffs() throws Exception {
        KernelRequired.check();
        bpffs = Files.createTempDirectory("cgbpf-bpffs-diff").toRealPath();
        Process p = new ProcessBuilder("mount", "-t", "bpf", "bpf", bpffs.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            Files.delete(bpffs);
            bpffs = null;
            String why = "cannot mount a bpf file system: " + out.strip();
            if (KernelRequired.required()) {
                fail(why);
            }
            Assumptions.abort(why);
        }
    }

    @AfterAll
    static void unmount() throws Exception {
        if (bpffs != null) {
            new ProcessBuilder("umount", bpffs.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
            Files.deleteIfExists(bpffs);
        }
    }

    interface Step {
        Object run() throws BpfException;
    }

    /** "OK" (with what the step returned, described), or the errno name. */
    static String outcome(Step s) {
        try {
            return "OK" + describe(s.run());
        } catch (BpfException e) {
            return e.errno();
        }
    }

    private static String describe(Object r) {
        if (r == null) {
            return "";
        }
        if (r instanceof BpfObject o) {
            String kind = o instanceof LoadedProg ? "prog" : o instanceof BpfMap ? "map" : "link";
            o.close();
            return " " + kind;
        }
        return " " + r;
    }

    // ---------------------------------------------------------------- the bpf file system

    /** Paths below the mount, chosen so that every rule of bpffs comes up: '.' names, long names, pins on the way. */
    static final List<String> PATHS = List.of("a", "b", "a/b", "a/c", "a/b/c", "b/a", "n".repeat(255));
    static final List<String> ODD_PATHS = List.of("", "a.b", "a/.x", "x.", "a.b/c", "n".repeat(256),
            "a/" + "n".repeat(256), "n".repeat(200) + ".x");

    @Test
    void theBpfFileSystemAnswersAlike() throws Exception {
        DifferentialSample sample = new DifferentialSample();
        sample.run("bpffs differential", SEQUENCES, OPS, seed -> pinSequence(seed, sample), List.of(
                "pin OK", "pin EEXIST", "pin ENOENT", "pin EPERM", "pin ENOTDIR", "pin ENAMETOOLONG",
                "get OK", "get ENOENT", "get EACCES", "get EPERM", "get EINVAL", "get ENOTDIR",
                "typed EINVAL", "unpin OK", "unpin ENOENT", "unpin EISDIR", "unpin EPERM",
                "mkdir OK", "mkdir EEXIST", "mkdir ENOENT", "mkdir EPERM", "rmdir OK", "rmdir ENOTEMPTY",
                "rmdir ENOTDIR", "rmdir ENOENT", "rmdir EBUSY", "list OK", "list ENOTDIR", "list ENOENT"));
    }

    /** The objects one side pins: a program, a map and a link. */
    record Objects(LoadedProg prog, BpfMap map, BpfLink link) {
        BpfObject pick(int i) {
            return i == 0 ? prog : i == 1 ? map : link;
        }

        static Objects in(Backend b) throws BpfException {
            LoadedProg p = Progs.device(b, "pinned", 1);
            BpfMap m = b.createMap(new MapSpec("pinned_map", MapType.ARRAY, 4, 8, 2, 0));
            return new Objects(p, m, b.linkCreate("", p, AttachType.CGROUP_DEVICE));
        }
    }

    private int pinSequence(long seed, DifferentialSample sample) throws Exception {
        Random rnd = new Random(seed);
        List<String> trace = new ArrayList<>();
        try (KernelBackend k = KernelBackend.openScenario();
             EngineBackend e = EngineBackend.openScenario(new EngineHost(bpffs))) {
            Objects ko = Objects.in(k);
            Objects eo = Objects.in(e);
            for (int i = 0; i < OPS; i++) {
                String rel = rnd.nextInt(4) == 0 ? ODD_PATHS.get(rnd.nextInt(ODD_PATHS.size()))
                        : PATHS.get(rnd.nextInt(PATHS.size()));
                Path path = rel.isEmpty() ? bpffs : bpffs.resolve(rel);
                int op = rnd.nextInt(16);
                String kind;
                String engine;
                String kernel;
                String shown = rel.length() > 20 ? rel.substring(0, 8) + "..(" + rel.length() + ")" : rel;
                if (op < 4) {
                    int which = rnd.nextInt(3);
                    kind = "pin";
                    trace.add("pin " + List.of("prog", "map", "link").get(which) + " '" + shown + "'");
                    engine = outcome(() -> { e.objPin(eo.pick(which), path); return null; });
                    kernel = outcome(() -> { k.objPin(ko.pick(which), path); return null; });
                } else if (op < 7) {
                    ObjAccess access = ObjAccess.values()[rnd.nextInt(3)];
                    kind = "get";
                    trace.add("get '" + shown + "' " + access);
                    engine = outcome(() -> e.objGet(path, access));
                    kernel = outcome(() -> k.objGet(path, access));
                } else if (op < 8) {
                    int which = rnd.nextInt(3);
                    kind = "typed";
                    trace.add(List.of("progGet", "mapGet", "linkGet").get(which) + " '" + shown + "'");
                    engine = outcome(() -> typedGet(e, which, path));
                    kernel = outcome(() -> typedGet(k, which, path));
                } else if (op < 10) {
                    kind = "unpin";
                    trace.add("unpin '" + shown + "'");
                    engine = outcome(() -> { e.unpin(path); return null; });
                    kernel = outcome(() -> { k.unpin(path); return null; });
                } else if (op < 13) {
                    kind = "mkdir";
                    trace.add("mkdir '" + shown + "'");
                    engine = outcome(() -> { e.pinMkdir(path); return null; });
                    kernel = outcome(() -> { k.pinMkdir(path); return null; });
                } else if (op < 15) {
                    kind = "rmdir";
                    trace.add("rmdir '" + shown + "'");
                    engine = outcome(() -> { e.pinRmdir(path); return null; });
                    kernel = outcome(() -> { k.pinRmdir(path); return null; });
                } else {
                    kind = "list";
                    trace.add("list '" + shown + "'");
                    engine = outcome(() -> e.pinList(path));
                    kernel = outcome(() -> withoutPreload(k.pinList(path)));
                }
                sample.count(kind + " " + kernel.split(" ")[0]);
                assertEquals(kernel, engine, "seed " + seed + ", after:\n  " + String.join("\n  ", trace));
            }
        }
        try (var left = Files.list(bpffs)) {
            assertEquals(List.of(), withoutPreload(left.map(p -> p.getFileName().toString()).toList()),
                    "a scoped backend leaves no pin behind");
        }
        return OPS;
    }

    /**
     * A kernel with CONFIG_BPF_PRELOAD puts the iterator links maps.debug and progs.debug into the
     * root of every bpffs mount; the engine does not model them (docs/fidelity.md).
     */
    static List<String> withoutPreload(List<String> names) {
        return names.stream().filter(n -> !n.equals("maps.debug") && !n.equals("progs.debug")).toList();
    }

    private static Object typedGet(Backend b, int which, Path path) throws BpfException {
        return switch (which) {
            case 0 -> b.progGet(path);
            case 1 -> b.mapGet(path, ObjAccess.READ_ONLY);
            default -> b.linkGet(path);
        };
    }

    @Test
    void pathsOutsideABpfFileSystemAreRefusedBeforeAnythingIsAsked() throws Exception {
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            for (Backend b : List.of(k, e)) {
                LoadedProg p = Progs.device(b, "p", 1);
                for (Path bad : List.of(Path.of("/tmp/cgbpf-not-bpffs"), Path.of("relative"), bpffs.resolve("a/../b"))) {
                    assertThrows(IllegalArgumentException.class, () -> b.objPin(p, bad), b.name() + " " + bad);
                    assertThrows(IllegalArgumentException.class, () -> b.objGet(bad, ObjAccess.READ_WRITE));
                    assertThrows(IllegalArgumentException.class, () -> b.unpin(bad));
                    assertThrows(IllegalArgumentException.class, () -> b.pinMkdir(bad));
                }
            }
        }
    }

    // ---------------------------------------------------------------- links, ids and info

    @Test
    void linksIdsAndInfoAnswerAlike() throws Exception {
        try (KernelBackend k = KernelBackend.openScenario(); EngineBackend e = new EngineBackend()) {
            List<String> kernel = linkScript(k);
            assertEquals(kernel, linkScript(e));
            System.out.println("links: " + String.join("\n  ", kernel));
        }
    }

    /** What one backend answers to a fixed sequence of link, id and info calls. */
    private static List<String> linkScript(Backend b) throws BpfException {
        List<String> out = new ArrayList<>();
        b.mkdir("c");
        LoadedProg p1 = Progs.device(b, "p1", 1);
        LoadedProg p2 = Progs.device(b, "p2", 0);
        LoadedProg skb = Progs.load(b, "skb", ProgType.CGROUP_SKB, null, "r0 = 1", "exit");
        int id1 = b.progInfo(p1).id();
        int id2 = b.progInfo(p2).id();
        BpfLink l = b.linkCreate("c", p1, AttachType.CGROUP_DEVICE);
        out.add("link_create wrong type: " + outcome(() -> b.linkCreate("c", skb, AttachType.CGROUP_DEVICE)));
        out.add("attached " + b.query("c", AttachType.CGROUP_DEVICE, false, -1));
        out.add("ids " + ids(b.queryProgIds("c", AttachType.CGROUP_DEVICE, false), id1, id2));
        out.add("isAttached p1 " + b.isAttached("c", AttachType.CGROUP_DEVICE, id1) + " p2 "
                + b.isAttached("c", AttachType.CGROUP_DEVICE, id2) + " on root " + b.isAttached("", AttachType.CGROUP_DEVICE, id1));
        out.add("effective below root: " + ids(b.queryProgIds("", AttachType.CGROUP_DEVICE, true), id1, id2));
        out.add("info " + linkInfo(b, b.linkInfo(l), "c", id1, id2));
        out.add("update, wrong old: " + outcome(() -> { b.linkUpdate(l, p2, p2); return null; }));
        out.add("update, right old: " + outcome(() -> { b.linkUpdate(l, p2, p1); return null; }));
        out.add("update, other type: " + outcome(() -> { b.linkUpdate(l, skb, null); return null; }));
        out.add("info " + linkInfo(b, b.linkInfo(l), "c", id1, id2));
        out.add("ids " + ids(b.queryProgIds("c", AttachType.CGROUP_DEVICE, false), id1, id2));
        out.add("detach: " + outcome(() -> { b.linkDetach(l); return null; }));
        out.add("detach again: " + outcome(() -> { b.linkDetach(l); return null; }));
        out.add("update defunct: " + outcome(() -> { b.linkUpdate(l, p1, null); return null; }));
        out.add("info " + linkInfo(b, b.linkInfo(l), "c", id1, id2));
        out.add("ids " + ids(b.queryProgIds("c", AttachType.CGROUP_DEVICE, false), id1, id2));
        b.attach("c", p1, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
        BpfLink l2 = b.linkCreate("c", p1, AttachType.CGROUP_DEVICE);
        out.add("plain and link of one program: " + ids(b.queryProgIds("c", AttachType.CGROUP_DEVICE, false), id1, id2));
        b.rmdir("c");
        out.add("after rmdir: " + outcome(() -> b.queryProgIds("c", AttachType.CGROUP_DEVICE, false))
                + " link_create " + outcome(() -> b.linkCreate("c", p1, AttachType.CGROUP_DEVICE)));
        awaitDefunct(b, l2);
        out.add("info " + linkInfo(b, b.linkInfo(l2), "c", id1, id2));
        return out;
    }

    /** The kernel auto-detaches the links of a removed cgroup a moment after rmdir returns. */
    private static void awaitDefunct(Backend b, BpfLink l) throws BpfException {
        long deadline = System.currentTimeMillis() + 5000;
        while (b.linkInfo(l).cgroupId() != 0 && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
    }

    private static String ids(List<Integer> ids, int id1, int id2) {
        return ids.stream().map(i -> i == id1 ? "p1" : i == id2 ? "p2" : "?" + i).toList().toString();
    }

    private static String linkInfo(Backend b, LinkInfo i, String cgroup, int id1, int id2) throws BpfException {
        String cg = i.cgroupId() == 0 ? "defunct" : i.cgroupId() == b.cgroupId(cgroup) ? cgroup : "id " + i.cgroupId();
        return "prog " + ids(List.of(i.progId()), id1, id2) + " " + i.attachType().scenarioName() + " at " + cg
                + (i.id() > 0 ? "" : " NO ID");
    }

    @Test
    void programAndMapInfoAreTheKernelsIncludingTheTag() throws Exception {
        try (KernelBackend k = KernelBackend.openScenario(); EngineBackend e = new EngineBackend()) {
            List<String> kernel = infoScript(k);
            assertEquals(kernel, infoScript(e));
            System.out.println("info: " + String.join("\n  ", kernel));
        }
    }

    private static List<String> infoScript(Backend b) throws BpfException {
        List<String> out = new ArrayList<>();
        BpfMap m = b.createMap(new MapSpec("counters of mine", MapType.HASH, 4, 8, 16, 0));
        BpfMap m2 = b.createMap(new MapSpec("a_name_longer_than_15", MapType.ARRAY, 4, 8, 4, 0));
        out.add("map " + b.mapInfo(m).spec() + " " + b.mapInfo(m2).spec());
        LoadedProg p = Progs.load(b, "odd name-1", ProgType.CGROUP_DEVICE, null, "r0 = 1", "exit");
        LoadedProg withMaps = Progs.load(b, "uses_two_maps_and_more", ProgType.CGROUP_DEVICE, null, Map.of("m", m, "m2", m2),
                "r1 = map[m]", "r1 = map[m2]", "r0 = 1", "exit");
        LoadedProg sock = Progs.load(b, "connect4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                "r0 = 1", "exit");
        for (LoadedProg x : List.of(p, withMaps, sock)) {
            ProgInfo i = b.progInfo(x);
            out.add("prog " + i.type() + " '" + i.name() + "' tag " + i.tag() + (i.id() > 0 ? "" : " NO ID")
                    + " loaded as '" + x.name() + "'");
        }
        int a = b.progInfo(p).id();
        int c = b.progInfo(sock).id();
        out.add("ids differ and grow: " + (c > a) + ", maps: " + (b.mapInfo(m2).id() > b.mapInfo(m).id()));
        return out;
    }

    // ---------------------------------------------------------------- lifetimes

    /** A cgroup and pin directory to open backends at, on the kernel or on one engine host. */
    interface World extends AutoCloseable {
        Backend open(Lifetime lifetime) throws BpfException;

        @Override
        void close() throws Exception;
    }

    @Test
    void persistentObjectsOutliveTheBackendAndScopedOnesDoNot() throws Exception {
        List<String> kernel;
        try (TestCgroup cg = new TestCgroup()) {
            kernel = lifetimeScript(new World() {
                @Override
                public Backend open(Lifetime lifetime) throws BpfException {
                    return KernelBackend.atCgroupRoot(cg.path, lifetime);
                }

                @Override
                public void close() {
                }
            });
        }
        EngineHost host = new EngineHost(bpffs);
        host.cgroups().mkdir("ctr");
        List<String> engine = lifetimeScript(new World() {
            @Override
            public Backend open(Lifetime lifetime) throws BpfException {
                return EngineBackend.atCgroupRoot(host, "ctr", lifetime);
            }

            @Override
            public void close() {
            }
        });
        assertEquals(kernel, engine);
        assertFalse(kernel.isEmpty());
        System.out.println("lifetimes: " + String.join("\n  ", kernel));
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static List<String> lifetimeScript(World w) throws Exception {
        List<String> out = new ArrayList<>();
        Path dir = bpffs.resolve("ctr1");
        int plainId;
        int linkedId;
        int looseId;
        try (Backend b = w.open(Lifetime.PERSISTENT)) {
            out.add("lifetime " + b.lifetime());
            b.pinMkdir(dir);
            BpfMap counters = b.createMap(new MapSpec("counters", MapType.ARRAY, 4, 8, 2, 0));
            b.update(counters, u32(0), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(42).array(), 0);
            b.objPin(counters, dir.resolve("counters"));
            LoadedProg plain = Progs.device(b, "plain", 1);
            b.attach("", plain, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            b.objPin(plain, dir.resolve("plain"));
            LoadedProg linked = Progs.device(b, "linked", 1);
            b.objPin(b.linkCreate("", linked, AttachType.CGROUP_DEVICE), dir.resolve("linked_link"));
            b.objPin(linked, dir.resolve("linked"));
            LoadedProg loose = Progs.device(b, "loose", 1);
            b.linkCreate("", loose, AttachType.CGROUP_DEVICE);
            plainId = b.progInfo(plain).id();
            linkedId = b.progInfo(linked).id();
            looseId = b.progInfo(loose).id();
            out.add("before close " + b.queryProgIds("", AttachType.CGROUP_DEVICE, false).equals(List.of(plainId, linkedId, looseId)));
        }
        try (Backend b = w.open(Lifetime.SCOPED)) {
            out.add("after close: plain " + b.isAttached("", AttachType.CGROUP_DEVICE, plainId) + ", pinned link "
                    + b.isAttached("", AttachType.CGROUP_DEVICE, linkedId) + ", unpinned link "
                    + b.isAttached("", AttachType.CGROUP_DEVICE, looseId));
            out.add("pins " + b.pinList(dir));
            try (BpfMap ro = b.mapGet(dir.resolve("counters"), ObjAccess.READ_ONLY)) {
                out.add("counter " + ByteBuffer.wrap(b.lookup(ro, u32(0))).order(ByteOrder.LITTLE_ENDIAN).getLong()
                        + ", update read-only: " + outcome(() -> { b.update(ro, u32(0), new byte[8], 0); return null; })
                        + ", spec " + ro.spec());
            }
            LoadedProg plain = b.progGet(dir.resolve("plain"));
            out.add("plain from pin: " + plain.name() + " " + plain.type() + " same id " + (b.progInfo(plain).id() == plainId));
            BpfLink link = b.linkGet(dir.resolve("linked_link"));
            LinkInfo li = b.linkInfo(link);
            out.add("link from pin: runs linked " + (li.progId() == linkedId) + ", at root " + (li.cgroupId() == b.cgroupId(""))
                    + ", " + li.attachType());
            b.detach("", AttachType.CGROUP_DEVICE, plain);
            b.linkDetach(link);
            for (String n : b.pinList(dir)) {
                b.unpin(dir.resolve(n));
            }
            b.pinRmdir(dir);
            out.add("after cleanup " + b.queryProgIds("", AttachType.CGROUP_DEVICE, false));
        }
        Path dir2 = bpffs.resolve("ctr2");
        try (Backend b = w.open(Lifetime.SCOPED)) {
            b.pinMkdir(dir2);
            LoadedProg q = Progs.device(b, "scoped", 1);
            b.attach("", q, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            b.objPin(q, dir2.resolve("scoped"));
            b.objPin(b.linkCreate("", q, AttachType.CGROUP_DEVICE), dir2.resolve("scoped_link"));
            b.mkdir("child");
            out.add("scoped before close " + b.queryProgIds("", AttachType.CGROUP_DEVICE, false).size());
        }
        try (Backend b = w.open(Lifetime.SCOPED)) {
            out.add("after a scoped close " + b.queryProgIds("", AttachType.CGROUP_DEVICE, false) + " "
                    + withoutPreload(b.pinList(bpffs)) + " " + outcome(() -> b.progGet(dir2.resolve("scoped"))) + " child "
                    + outcome(() -> b.cgroupId("child") > 0));
        }
        return out;
    }
}
