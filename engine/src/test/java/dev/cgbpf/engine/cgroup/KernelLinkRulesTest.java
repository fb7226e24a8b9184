package dev.cgbpf.engine.cgroup;

import static dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE;
import static dev.cgbpf.engine.backend.AttachType.CGROUP_INET_INGRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * bpf_link attachment on cgroups as the running kernel (Linux 6.18.44) answers it, observed with
 * small C programs calling BPF_LINK_CREATE/UPDATE/DETACH, BPF_PROG_ATTACH/DETACH and
 * BPF_PROG_QUERY on cgroups under /sys/fs/cgroup/unified (device and ingress programs "r0 = 1;
 * exit"), asserted against the engine's model. The same rules are checked on random sequences
 * against the live kernel by native's LinkDifferentialTest.
 */
class KernelLinkRulesTest extends DeviceAttachFixture {
    String update(CgroupLink l, CgroupProg p, CgroupProg old) {
        return errno(() -> l.update(p, old));
    }

    CgroupLink link(Cgroup cg, CgroupProg p) throws BpfException {
        return tree.linkCreate(cg, p, CGROUP_DEVICE);
    }

    Set<AttachFlag> flags(Cgroup cg) throws BpfException {
        return tree.query(cg, CGROUP_DEVICE, false).flags();
    }

    @Test
    void aLinkIsReportedAsAllowMultiAndAsItsProgram() throws Exception {
        Cgroup cg = tree.mkdir("l");
        link(cg, a);
        assertEquals(List.of("A"), attached(cg));
        assertEquals(MULTI, flags(cg));
        assertEquals(NONE, tree.query(cg, CGROUP_DEVICE, true).flags());
    }

    @Test
    void plainAttachNextToALinkMustBeMulti() throws Exception {
        Cgroup cg = tree.mkdir("l");
        link(cg, a);
        assertEquals("EPERM", attach(cg, b, NONE, null));
        assertEquals("EPERM", attach(cg, b, OVERRIDE, null));
        assertEquals("OK", attach(cg, b, MULTI, null));
        assertEquals(List.of("A", "B"), attached(cg));
    }

    @Test
    void aLinkNextToNoneOrOverrideProgramsIsEperm() throws Exception {
        Cgroup none = tree.mkdir("n");
        Cgroup over = tree.mkdir("o");
        tree.attach(none, a, CGROUP_DEVICE, NONE, null);
        tree.attach(over, a, CGROUP_DEVICE, OVERRIDE, null);
        assertEquals("EPERM", errno(() -> link(none, b)));
        assertEquals("EPERM", errno(() -> link(over, b)));
    }

    @Test
    void theSameProgramThroughALinkAndPlainlyAndThroughTwoLinks() throws Exception {
        // kernel: link a; attach a multi -> 0, query [a a]; link a again -> fd, query [a a a]
        Cgroup cg = tree.mkdir("l");
        link(cg, a);
        assertEquals("OK", attach(cg, a, MULTI, null));
        assertEquals(List.of("A", "A"), attached(cg));
        link(cg, a);
        assertEquals(List.of("A", "A", "A"), attached(cg));
        // the plain duplicate rule still holds between plain entries
        assertEquals("EINVAL", attach(cg, a, MULTI, null));
    }

    @Test
    void plainReplaceAndDetachSeeOnlyPlainEntries() throws Exception {
        Cgroup cg = tree.mkdir("l");
        CgroupLink l = link(cg, a);
        // a runs only through the link: neither replace nor detach can name it
        assertEquals("ENOENT", attach(cg, b, MULTI_REPLACE, a));
        assertEquals("ENOENT", detach(cg, a));
        // kernel: [link a, plain a]; replace a by b -> [a b]; detach a -> removes the plain one
        assertEquals("OK", attach(cg, a, MULTI, null));
        assertEquals("OK", attach(cg, b, MULTI_REPLACE, a));
        assertEquals(List.of("A", "B"), attached(cg));
        assertEquals("OK", attach(cg, a, MULTI_REPLACE, b));
        assertEquals("OK", detach(cg, a));
        assertEquals(List.of("A"), attached(cg));
        assertEquals("ENOENT", detach(cg, a));
        assertEquals("EINVAL", detach(cg, null)); // multi mode: a program must be named
        assertSame(cg, l.cgroup());
    }

    @Test
    void updateSwapsTheProgramInPlace() throws Exception {
        Cgroup p = tree.mkdir("p");
        Cgroup ch = tree.mkdir("p/c");
        tree.attach(p, c, CGROUP_DEVICE, MULTI, null);
        CgroupLink l = link(p, a);
        tree.attach(p, TestProg.device("D"), CGROUP_DEVICE, MULTI, null);
        link(ch, c);
        assertEquals(List.of("C", "C", "A", "D"), effective(ch));
        assertEquals("OK", update(l, b, null));
        assertEquals(List.of("C", "B", "D"), attached(p));
        assertEquals(List.of("C", "C", "B", "D"), effective(ch));
        assertSame(b, l.prog());
        assertEquals("OK", update(l, b, null)); // to the program it runs already
        assertEquals("EPERM", update(l, c, a)); // BPF_F_REPLACE with a stale old program
        assertEquals("OK", update(l, c, b));
        assertEquals("EINVAL", update(l, skb, null)); // another program type
        assertEquals("EPERM", update(l, skb, a)); // the old-program check comes first
        assertEquals(List.of("C", "C", "D"), attached(p));
    }

    @Test
    void updateDoesNotCheckTheExpectedAttachType() throws Exception {
        // kernel: a bind4 link takes a program loaded for connect4; creating one with it is EINVAL
        Cgroup cg = tree.mkdir("s");
        TestProg bind4 = TestProg.of("B4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND);
        TestProg connect4 = TestProg.of("C4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT);
        CgroupLink l = tree.linkCreate(cg, bind4, AttachType.CGROUP_INET4_BIND);
        assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, connect4, AttachType.CGROUP_INET4_BIND)));
        assertEquals("OK", update(l, connect4, null));
        assertEquals(List.of("C4"), names(tree.query(cg, AttachType.CGROUP_INET4_BIND, false).progs()));
    }

    @Test
    void createRefusesWhatAttachRefusesAndEveryAttachFlag() throws Exception {
        Cgroup cg = tree.mkdir("l");
        assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, a, CGROUP_INET_INGRESS)));
        assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, a, AttachType.LIRC_MODE2)));
        TestProg lirc = TestProg.of("L", ProgType.LIRC_MODE2, null);
        assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, lirc, AttachType.LIRC_MODE2)));
        // kernel: link_create.flags 1, 2 and 4 (override, multi, replace) are EINVAL; bits 7..15 too
        for (int bit : new int[] {0, 1, 2, 7, 12, 15}) {
            assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, a, CGROUP_DEVICE, 1 << bit)), "bit " + bit);
        }
        // the type check comes before the flags: an unfit program with bad flags is EINVAL either way
        assertEquals("EINVAL", errno(() -> tree.linkCreate(cg, skb, CGROUP_DEVICE, 1)));
        // the ordering flags the kernel accepts are not modelled: refused as bad input, not as an errno
        assertThrows(IllegalArgumentException.class, () -> tree.linkCreate(cg, a, CGROUP_DEVICE, 1 << 3));
        assertEquals(List.of(), attached(cg));
        assertEquals("OK", errno(() -> link(cg, a)));
    }

    @Test
    void hierarchyRulesApplyToLinks() throws Exception {
        Cgroup p = tree.mkdir("h");
        Cgroup ch = tree.mkdir("h/c");
        Cgroup gc = tree.mkdir("h/c/g");
        tree.attach(ch, a, CGROUP_DEVICE, NONE, null);
        // kernel: a non-overridable program on c forbids links below it, not above it
        assertEquals("EPERM", errno(() -> link(gc, b)));
        assertEquals("OK", errno(() -> link(p, b)));
        // the link makes the parent multi: its program runs below the none-mode one
        assertEquals(List.of("A", "B"), effective(ch));
        assertEquals(List.of("A", "B"), effective(gc));
    }

    @Test
    void linksAndPlainEntriesShareTheLimitOf64() throws Exception {
        // kernel: 32 links + 32 plain programs; a 65th link, plain attach or replace is E2BIG,
        // a link update is not; closing one link makes room for a link
        Cgroup cg = tree.mkdir("e");
        List<CgroupLink> links = new ArrayList<>();
        List<TestProg> plain = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            links.add(link(cg, a));
            plain.add(TestProg.device("p" + i));
            tree.attach(cg, plain.get(i), CGROUP_DEVICE, MULTI, null);
        }
        assertEquals("E2BIG", errno(() -> link(cg, b)));
        assertEquals("E2BIG", attach(cg, b, MULTI, null));
        assertEquals("E2BIG", attach(cg, b, MULTI_REPLACE, plain.get(0)));
        assertEquals("OK", update(links.get(0), c, null));
        links.get(0).close();
        assertEquals("OK", errno(() -> link(cg, b)));
    }

    @Test
    void detachIsIdempotentAndLeavesTheLinkDefunct() throws Exception {
        Cgroup cg = tree.mkdir("d");
        CgroupLink l = link(cg, a);
        link(cg, a);
        CgroupLink gone = tree.links(cg, CGROUP_DEVICE).get(1);
        assertEquals("OK", errno(gone::detach));
        assertEquals("OK", errno(gone::detach));
        assertNull(gone.cgroup());
        assertEquals("ENOLINK", update(gone, b, null));
        assertEquals("ENOLINK", update(gone, skb, c)); // ENOLINK before every other check
        assertEquals(List.of("A"), attached(cg));
        assertEquals(List.of(l), tree.links(cg, CGROUP_DEVICE));
        l.detach();
        // the last entry gone, the mode is none again: a flags-0 attach fits
        assertEquals(NONE, flags(cg));
        assertEquals("OK", attach(cg, b, NONE, null));
    }

    @Test
    void closingTheLinkDetachesAndInvalidatesTheHandle() throws Exception {
        Cgroup cg = tree.mkdir("x");
        CgroupLink l = link(cg, a);
        l.close();
        assertEquals(List.of(), attached(cg));
        assertEquals(NONE, flags(cg));
        assertTrue(l.isClosed());
        l.close(); // idempotent
        assertEquals("EBADF", update(l, b, null));
        assertEquals("EBADF", errno(l::detach));
    }

    @Test
    void rmdirAutoDetachesTheCgroupsLinks() throws Exception {
        Cgroup p = tree.mkdir("r");
        Cgroup ch = tree.mkdir("r/c");
        CgroupLink up = link(p, a);
        CgroupLink l = link(ch, b);
        tree.rmdir("r/c");
        // kernel: rmdir 0; once the cgroup is released fdinfo shows cgroup_id 0, update is ENOLINK
        // (even to a program of another type), detach 0 (twice)
        assertNull(l.cgroup());
        assertEquals("ENOLINK", update(l, c, null));
        assertEquals("ENOLINK", update(l, skb, null));
        assertEquals("OK", errno(l::detach));
        assertEquals("OK", errno(l::detach));
        // a cgroup fd kept across the rmdir: link_create, attach, detach, query are ENOENT
        assertEquals("ENOENT", errno(() -> link(ch, a)));
        assertEquals("ENOENT", attach(ch, a, MULTI, null));
        assertEquals("ENOENT", errno(() -> tree.query(ch, CGROUP_DEVICE, false)));
        // the parent's link is untouched
        assertSame(p, up.cgroup());
        assertEquals(List.of("A"), attached(p));
        l.close();
    }

    @Test
    void hooksRunTheLinksCurrentProgram() throws Exception {
        Cgroup cg = tree.mkdir("run");
        CgroupLink l = link(cg, a);
        List<String> ran = new ArrayList<>();
        ProgRunner runner = (prog, ctx) -> {
            ran.add(prog.name() + "@" + ctx.item().owner().name());
            return prog == a ? 1 : 0;
        };
        assertTrue(tree.runEffective(cg, CGROUP_DEVICE, runner, false).allowed());
        l.update(b, a);
        assertEquals(-1, tree.runEffective(cg, CGROUP_DEVICE, runner, false).retval());
        assertEquals(List.of("A@run", "B@run"), ran);
    }
}
