package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Phase 2 commands on a real cgroup: attach, detach, query, info, get-by-id, links. Each test has
 * a fresh cgroup ({@link #target}) and three passing cgroup_skb programs a, b and c, all closed
 * and removed after it.
 */
class CgroupAttachTest {
    private static final int INGRESS = AttachType.CGROUP_INET_INGRESS.value();
    private static final Set<AttachFlag> MULTI = EnumSet.of(AttachFlag.ALLOW_MULTI);
    private static final Set<AttachFlag> NONE = EnumSet.noneOf(AttachFlag.class);

    private final List<Fd> fds = new ArrayList<>();
    private TestCgroup cg;
    private Fd target;
    private Fd a;
    private Fd b;
    private Fd c;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @BeforeEach
    void cgroupAndPrograms() throws BpfException {
        cg = new TestCgroup();
        target = cg.fd();
        a = skb("a", 1);
        b = skb("b", 1);
        c = skb("c", 1);
    }

    @AfterEach
    void closeAll() throws IOException {
        fds.forEach(Fd::close);
        if (cg != null) {
            cg.close();
        }
    }

    private Fd keep(Fd fd) {
        fds.add(fd);
        return fd;
    }

    /** A cgroup_skb program returning {@code ret} (1 = pass). */
    private Fd skb(String name, int ret) throws BpfException {
        return keep(ProgLoad.progLoad(ProgType.CGROUP_SKB.value(), TestInsns.returning(ret).encode(), "GPL",
                name, INGRESS, 0).fd());
    }

    private static int id(Fd prog) throws BpfException {
        return ObjGetInfoByFd.progInfo(prog).id();
    }

    /** The ids BPF_PROG_QUERY lists as attached to {@code cgroup} itself at ingress, in order. */
    private static int[] attachedIds(Fd cgroup) throws BpfException {
        return ProgQuery.progQuery(cgroup, INGRESS, 0, 8, false).progIds();
    }

    @Test
    void attachQueryDetach() throws Exception {
        Fd p = skb("pass", 1);
        ProgQuery.Result empty = ProgQuery.progQuery(target, INGRESS, 0, 8, false);
        assertEquals(0, empty.count());
        ProgAttach.progAttach(target, p, INGRESS, NONE, null);
        ProgQuery.Result q = ProgQuery.progQuery(target, INGRESS, 0, 8, false);
        assertEquals(1, q.count());
        assertFalse(q.enospc());
        assertEquals(NONE, q.attachFlags());
        assertArrayEquals(new int[] {id(p)}, q.progIds());
        ProgAttach.progDetach(target, p, INGRESS);
        assertEquals(0, ProgQuery.progQuery(target, INGRESS, 0, 8, false).count());
        BpfException again = assertThrows(BpfException.class, () -> ProgAttach.progDetach(target, p, INGRESS));
        assertEquals("ENOENT", again.errno());
    }

    @Test
    void queryWithTooSmallBufferIsEnospcWithTheIdsThatFit() throws Exception {
        for (Fd p : new Fd[] {a, b, c}) {
            ProgAttach.progAttach(target, p, INGRESS, MULTI, null);
        }
        ProgQuery.Result all = ProgQuery.progQuery(target, INGRESS, 0, 8, true);
        assertEquals(MULTI, all.attachFlags());
        assertArrayEquals(new int[] {id(a), id(b), id(c)}, all.progIds(), "attach order");
        // per program: the flags each one was attached with
        assertEquals(List.of(MULTI, MULTI, MULTI), all.progAttachFlags());
        ProgQuery.Result two = ProgQuery.progQuery(target, INGRESS, 0, 2, false);
        assertTrue(two.enospc());
        assertEquals(3, two.count());
        assertArrayEquals(new int[] {id(a), id(b)}, two.progIds());
        ProgQuery.Result countOnly = ProgQuery.progQuery(target, INGRESS, 0, 0, false);
        assertFalse(countOnly.enospc());
        assertEquals(3, countOnly.count());
        BpfException e = assertThrows(BpfException.class,
                () -> ProgQuery.progQuery(target, INGRESS, ProgQuery.BPF_F_QUERY_EFFECTIVE, 8, true));
        assertEquals("EINVAL", e.errno());
    }

    @Test
    void replaceKeepsThePosition() throws Exception {
        ProgAttach.progAttach(target, a, INGRESS, MULTI, null);
        ProgAttach.progAttach(target, b, INGRESS, MULTI, null);
        ProgAttach.progAttach(target, c, INGRESS, EnumSet.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE), a);
        assertArrayEquals(new int[] {id(c), id(b)}, attachedIds(target));
        // a is no longer attached: replacing it again is ENOENT
        BpfException e = assertThrows(BpfException.class,
                () -> ProgAttach.progAttach(target, a, INGRESS, EnumSet.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE), a));
        assertEquals("ENOENT", e.errno());
    }

    @Test
    void effectiveQuerySeesTheParentsPrograms() throws Exception {
        Fd child = cg.fd(cg.child("child"));
        Fd p = skb("parent", 1);
        Fd q = skb("child", 1);
        ProgAttach.progAttach(target, p, INGRESS, MULTI, null);
        ProgAttach.progAttach(child, q, INGRESS, MULTI, null);
        assertArrayEquals(new int[] {id(q)}, attachedIds(child));
        ProgQuery.Result eff = ProgQuery.progQuery(child, INGRESS, ProgQuery.BPF_F_QUERY_EFFECTIVE, 8, false);
        // effective order: the cgroup's own programs first, then the ancestors'
        assertArrayEquals(new int[] {id(q), id(p)}, eff.progIds());
        assertEquals(NONE, eff.attachFlags());
    }

    @Test
    void infoAndGetFdById() throws Exception {
        Fd p = skb("a_name_longer_than_fifteen", 1);
        ObjGetInfoByFd.ProgInfo info = ObjGetInfoByFd.progInfo(p);
        assertEquals("a_name_longer_t", info.name(), "15 bytes kept, like libbpf");
        assertEquals(ProgType.CGROUP_SKB.value(), info.type());
        assertEquals(16, info.tag().length());
        try (Fd again = ProgGetFdById.progGetFdById(info.id())) {
            assertEquals(info, ObjGetInfoByFd.progInfo(again));
        }
        BpfException e = assertThrows(BpfException.class, () -> ProgGetFdById.progGetFdById(Integer.MAX_VALUE));
        assertEquals("ENOENT", e.errno());
    }

    @Test
    void linkCreateUpdateDetach() throws Exception {
        Fd link = keep(LinkCreate.linkCreate(a, target, INGRESS, 0));
        ProgQuery.Result q = ProgQuery.progQuery(target, INGRESS, 0, 8, false);
        assertArrayEquals(new int[] {id(a)}, q.progIds());
        assertEquals(MULTI, q.attachFlags(), "a link attaches like BPF_F_ALLOW_MULTI");
        // a plain attach without ALLOW_MULTI next to a link: flags must match
        BpfException mix = assertThrows(BpfException.class, () -> ProgAttach.progAttach(target, b, INGRESS, NONE, null));
        assertEquals("EPERM", mix.errno());
        LinkUpdate.linkUpdate(link, b, null);
        assertArrayEquals(new int[] {id(b)}, attachedIds(target));
        BpfException stale = assertThrows(BpfException.class, () -> LinkUpdate.linkUpdate(link, c, a));
        assertEquals("EPERM", stale.errno());
        LinkUpdate.linkUpdate(link, c, b);
        assertArrayEquals(new int[] {id(c)}, attachedIds(target));
        // a link is not detached by PROG_DETACH
        BpfException viaDetach = assertThrows(BpfException.class, () -> ProgAttach.progDetach(target, c, INGRESS));
        assertEquals("ENOENT", viaDetach.errno());
        LinkDetach.linkDetach(link);
        assertEquals(0, ProgQuery.progQuery(target, INGRESS, 0, 8, false).count());
        BpfException defunct = assertThrows(BpfException.class, () -> LinkUpdate.linkUpdate(link, a, null));
        assertEquals("ENOLINK", defunct.errno(), "ENOLINK");
    }

    @Test
    void closingTheLastLinkFdDetaches() throws Exception {
        try (Fd link = LinkCreate.linkCreate(a, target, INGRESS, 0)) {
            assertEquals(1, ProgQuery.progQuery(target, INGRESS, 0, 8, false).count());
        }
        assertEquals(0, ProgQuery.progQuery(target, INGRESS, 0, 8, false).count());
    }
}
