package dev.cgbpf.engine.cgroup;

import static dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The attach/detach/query/mkdir/rmdir answers of the running kernel (Linux 6.18.44, observed with
 * small C programs calling bpf(2) on cgroups under /sys/fs/cgroup/unified, device programs
 * "r0 = 1; exit" unless said otherwise), asserted against the engine's model. Each test names the
 * situation as it was put to the kernel; the expected values are what the kernel printed.
 */
class KernelAttachRulesTest extends DeviceAttachFixture {
    final TestProg e = TestProg.device("E");

    Cgroup mk(String path) throws BpfException {
        return tree.mkdir(path);
    }

    @Nested
    class Flags {
        @Test
        void overrideWithMultiIsEinval() throws Exception {
            assertEquals("EINVAL", attach(mk("f"), a, Set.of(AttachFlag.ALLOW_OVERRIDE, AttachFlag.ALLOW_MULTI)));
        }

        @Test
        void replaceWithoutMultiIsEinval() throws Exception {
            Cgroup f = mk("f");
            assertEquals("EINVAL", attach(f, a, REPLACE, b));
            assertEquals("EINVAL", attach(f, a, Set.of(AttachFlag.REPLACE, AttachFlag.ALLOW_OVERRIDE), b));
        }

        @Test
        void multiReplaceOnEmptyCgroupIsEnoent() throws Exception {
            assertEquals("ENOENT", attach(mk("f"), a, MULTI_REPLACE, b));
        }

        @Test
        void multiReplaceWithReplaceProgOfOtherTypeIsEinval() throws Exception {
            assertEquals("EINVAL", attach(mk("f"), a, MULTI_REPLACE, skb));
        }

        @Test
        void replaceProgramIsIgnoredWithoutTheReplaceFlag() throws Exception {
            // the kernel reads replace_bpf_fd only with allow_multi|replace
            Cgroup f = mk("f");
            assertEquals("OK", attach(f, a, NONE, skb));
            assertEquals("EINVAL", attach(f, a, AttachFlag.exactly(7), skb));
        }

        @Test
        void multiReplaceWithoutAProgramToReplaceIsEinval() throws Exception {
            // the kernel: replace_bpf_fd 0 (not a bpf program) -> EINVAL
            assertEquals("EINVAL", attach(mk("f"), a, MULTI_REPLACE, null));
        }

        @Test
        void failedAttachesLeaveNothingBehind() throws Exception {
            Cgroup f = mk("f");
            attach(f, a, AttachFlag.exactly(3));
            attach(f, a, REPLACE, b);
            attach(f, a, MULTI_REPLACE, b);
            QueryResult q = tree.query(f, CGROUP_DEVICE, false, 16);
            assertEquals(0, q.count());
            assertEquals(NONE, q.flags());
        }

        @Test
        void flagsAreCheckedBeforeTheHierarchy() throws Exception {
            Cgroup p = mk("h");
            Cgroup ch = mk("h/b");
            assertEquals("OK", attach(p, a, NONE));
            // the kernel: child override+multi under a none parent -> EINVAL, not EPERM
            assertEquals("EINVAL", attach(ch, b, AttachFlag.exactly(3)));
            assertEquals("EPERM", attach(ch, b, MULTI));
        }
    }

    @Nested
    class ProgramTypes {
        @Test
        void programOfAnotherTypeIsEinval() throws Exception {
            assertEquals("EINVAL", attach(mk("t"), skb, NONE));
            assertEquals("EINVAL", errno(() -> tree.attach(tree.lookup("t"), a, AttachType.CGROUP_SOCK_OPS, NONE, null)));
        }

        @Test
        void sockProgramWithoutExpectedTypeIsSockCreate() throws Exception {
            Cgroup t = mk("t");
            TestProg k0 = TestProg.of("k0", ProgType.CGROUP_SOCK, null);
            assertEquals("OK", errno(() -> tree.attach(t, k0, AttachType.CGROUP_INET_SOCK_CREATE, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, k0, AttachType.CGROUP_INET4_POST_BIND, NONE, null)));
        }

        @Test
        void sockProgramOnlyWhereLoadedFor() throws Exception {
            Cgroup t = mk("t");
            TestProg k1 = TestProg.of("k1", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND);
            assertEquals("OK", errno(() -> tree.attach(t, k1, AttachType.CGROUP_INET4_POST_BIND, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, k1, AttachType.CGROUP_INET6_POST_BIND, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, k1, AttachType.CGROUP_INET_SOCK_CREATE, NONE, null)));
        }

        @Test
        void sockAddrProgramOnlyWhereLoadedFor() throws Exception {
            Cgroup t = mk("t");
            TestProg c4 = TestProg.of("c4", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT);
            assertEquals("OK", errno(() -> tree.attach(t, c4, AttachType.CGROUP_INET4_CONNECT, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, c4, AttachType.CGROUP_INET4_BIND, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, c4, AttachType.CGROUP_INET6_CONNECT, NONE, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, c4, AttachType.CGROUP_DEVICE, NONE, null)));
        }

        @Test
        void skbEgressProgramGoesOnIngressUnlessTheVerifierEnforced() throws Exception {
            Cgroup t = mk("t");
            // r0 = 1 loaded for egress: the kernel attached it to ingress
            TestProg plain = TestProg.of("s1", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS);
            assertEquals("OK", errno(() -> tree.attach(t, plain, AttachType.CGROUP_INET_INGRESS, NONE, null)));
            // r0 = 3 loaded for egress: EINVAL on ingress, OK on egress
            TestProg cn = new TestProg("s3", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, true);
            assertEquals("EINVAL", errno(() -> tree.attach(t, cn, AttachType.CGROUP_INET_INGRESS, NONE, null)));
            assertEquals("OK", errno(() -> tree.attach(t, cn, AttachType.CGROUP_INET_EGRESS, NONE, null)));
        }

        @Test
        void sockAddrProgramWithoutExpectedTypeGoesNowhere() throws Exception {
            // the kernel refuses to load it (EINVAL); a handle without one must still fail cleanly
            TestProg none = TestProg.of("n", ProgType.CGROUP_SOCK_ADDR, null);
            Cgroup t = mk("t");
            BpfException ex = org.junit.jupiter.api.Assertions.assertThrows(BpfException.class,
                    () -> tree.attach(t, none, AttachType.CGROUP_INET4_CONNECT, NONE, null));
            assertEquals("EINVAL: program 'n' was loaded for no attach type, not cgroup_inet4_connect", ex.getMessage());
        }

        @Test
        void deviceAndSockOpsIgnoreTheExpectedType() throws Exception {
            Cgroup t = mk("t");
            TestProg d = TestProg.of("d", ProgType.CGROUP_DEVICE, AttachType.CGROUP_INET_EGRESS);
            TestProg o = TestProg.of("o", ProgType.SOCK_OPS, AttachType.CGROUP_DEVICE);
            assertEquals("OK", errno(() -> tree.attach(t, d, CGROUP_DEVICE, NONE, null)));
            assertEquals("OK", errno(() -> tree.attach(t, o, AttachType.CGROUP_SOCK_OPS, NONE, null)));
        }

        @Test
        void lircMode2IsNoCgroupAttachType() throws Exception {
            Cgroup t = mk("t");
            assertEquals("EINVAL", errno(() -> tree.query(t, AttachType.LIRC_MODE2, false)));
            assertEquals("EINVAL", errno(() -> tree.detach(t, AttachType.LIRC_MODE2, null)));
            assertEquals("EINVAL", errno(() -> tree.attach(t, a, AttachType.LIRC_MODE2, NONE, null)));
        }

        @Test
        void attachTypesAreIndependentLists() throws Exception {
            Cgroup t = mk("t");
            TestProg s = TestProg.of("s", ProgType.CGROUP_SKB, null);
            assertEquals("OK", errno(() -> tree.attach(t, s, AttachType.CGROUP_INET_INGRESS, NONE, null)));
            assertEquals("OK", errno(() -> tree.attach(t, s, AttachType.CGROUP_INET_EGRESS, MULTI, null)));
            assertEquals(NONE, tree.query(t, AttachType.CGROUP_INET_INGRESS, false).flags());
            assertEquals(MULTI, tree.query(t, AttachType.CGROUP_INET_EGRESS, false).flags());
        }
    }

    @Nested
    class NoneAndOverrideMode {
        @Test
        void sameProgramTwiceIsFine() throws Exception {
            Cgroup n = mk("n");
            assertEquals("OK", attach(n, a, NONE));
            assertEquals("OK", attach(n, a, NONE));
            assertEquals(List.of("A"), attached(n));
        }

        @Test
        void anotherProgramReplacesTheAttachedOne() throws Exception {
            Cgroup n = mk("n");
            attach(n, a, NONE);
            assertEquals("OK", attach(n, b, NONE));
            QueryResult q = tree.query(n, CGROUP_DEVICE, false, 16);
            assertEquals(List.of("B"), names(q.progs()));
            assertEquals(1, q.count());
            assertEquals(NONE, q.flags());
            Cgroup o = mk("o");
            attach(o, a, OVERRIDE);
            assertEquals("OK", attach(o, b, OVERRIDE));
            assertEquals(List.of("B"), attached(o));
            assertEquals(OVERRIDE, tree.query(o, CGROUP_DEVICE, false).flags());
        }

        @Test
        void modeCannotSwitchWhileProgramsAreAttached() throws Exception {
            Cgroup n = mk("n");
            attach(n, a, NONE);
            assertEquals("EPERM", attach(n, c, OVERRIDE));
            assertEquals("EPERM", attach(n, c, MULTI));
            assertEquals("EPERM", attach(n, c, MULTI_REPLACE, a));
            Cgroup o = mk("o");
            attach(o, a, OVERRIDE);
            assertEquals("EPERM", attach(o, c, NONE));
            assertEquals("EPERM", attach(o, c, MULTI));
        }

        @Test
        void detachTakesTheAttachedProgramWhateverIsNamed() throws Exception {
            Cgroup n = mk("n");
            attach(n, b, NONE);
            assertEquals("OK", detach(n, c)); // C was never attached
            assertEquals(List.of(), attached(n));
            attach(n, a, NONE);
            assertEquals("OK", detach(n, null));
            attach(n, a, NONE);
            assertEquals("OK", detach(n, skb)); // a program of another type counts as none
            assertEquals(List.of(), attached(n));
        }

        @Test
        void detachOnEmptyIsEnoent() throws Exception {
            Cgroup n = mk("n");
            assertEquals("ENOENT", detach(n, a));
            assertEquals("ENOENT", detach(n, null));
        }
    }

    @Nested
    class MultiMode {
        Cgroup m;

        void threeProgs() throws Exception {
            m = mk("m");
            assertEquals("OK", attach(m, a, MULTI));
            assertEquals("OK", attach(m, b, MULTI));
            assertEquals("OK", attach(m, c, MULTI));
        }

        @Test
        void programsAreAppendedInAttachOrder() throws Exception {
            threeProgs();
            QueryResult q = tree.query(m, CGROUP_DEVICE, false, 16);
            assertEquals(List.of("A", "B", "C"), names(q.progs()));
            assertEquals(MULTI, q.flags());
            assertEquals(3, q.count());
        }

        @Test
        void sameProgramTwiceIsEinval() throws Exception {
            threeProgs();
            assertEquals("EINVAL", attach(m, a, MULTI));
        }

        @Test
        void modeCannotSwitch() throws Exception {
            threeProgs();
            assertEquals("EPERM", attach(m, e, NONE));
            assertEquals("EPERM", attach(m, e, OVERRIDE));
        }

        @Test
        void replaceKeepsThePosition() throws Exception {
            threeProgs();
            assertEquals("OK", attach(m, e, MULTI_REPLACE, b));
            assertEquals(List.of("A", "E", "C"), attached(m));
        }

        @Test
        void replaceOfAProgramNotAttachedIsEnoent() throws Exception {
            threeProgs();
            attach(m, e, MULTI_REPLACE, b);
            assertEquals("ENOENT", attach(m, b, MULTI_REPLACE, b));
        }

        @Test
        void replaceByAnAttachedProgramIsEinvalButByItselfIsFine() throws Exception {
            threeProgs();
            assertEquals("EINVAL", attach(m, c, MULTI_REPLACE, a));
            assertEquals("OK", attach(m, a, MULTI_REPLACE, a));
            assertEquals(List.of("A", "B", "C"), attached(m));
        }

        @Test
        void replaceByAProgramOfAnotherTypeIsEinval() throws Exception {
            threeProgs();
            assertEquals("EINVAL", attach(m, skb, MULTI_REPLACE, a));
        }

        @Test
        void detachNeedsANamedAttachedProgram() throws Exception {
            threeProgs();
            assertEquals("EINVAL", detach(m, null));
            assertEquals("EINVAL", detach(m, skb));
            assertEquals("ENOENT", detach(m, e));
            assertEquals("OK", detach(m, b));
            assertEquals(List.of("A", "C"), attached(m));
        }

        @Test
        void lastDetachResetsTheMode() throws Exception {
            threeProgs();
            detach(m, a);
            detach(m, b);
            detach(m, c);
            QueryResult q = tree.query(m, CGROUP_DEVICE, false, 16);
            assertEquals(0, q.count());
            assertEquals(NONE, q.flags());
            assertEquals("OK", attach(m, a, NONE));
        }

        @Test
        void sixtyFourProgramsAndNoMore() throws Exception {
            Cgroup h = mk("h");
            List<TestProg> p = new ArrayList<>();
            for (int i = 0; i < 70; i++) {
                p.add(TestProg.device("p" + i));
            }
            for (int i = 0; i < 64; i++) {
                assertEquals("OK", attach(h, p.get(i), MULTI), "attach #" + i);
            }
            assertEquals("E2BIG", attach(h, p.get(64), MULTI));
            // the count check comes before the list search: even a replace or a duplicate is E2BIG
            assertEquals("E2BIG", attach(h, p.get(64), MULTI_REPLACE, p.get(3)));
            assertEquals("E2BIG", attach(h, p.get(5), MULTI));
            assertEquals("E2BIG", attach(h, p.get(65), MULTI_REPLACE, p.get(66)));
            // but the mode check comes before it
            assertEquals("EPERM", attach(h, p.get(64), NONE));
            assertEquals("OK", detach(h, p.get(10)));
            assertEquals("OK", attach(h, p.get(64), MULTI));
            assertEquals("p64", attached(h).get(63));
        }
    }

    @Nested
    class Hierarchy {
        @Test
        void noneParentForbidsEveryModeBelow() throws Exception {
            Cgroup p = mk("h1");
            Cgroup ch = mk("h1/b");
            Cgroup gc = mk("h1/b/c");
            assertEquals("OK", attach(p, a, NONE));
            assertEquals("EPERM", attach(ch, b, NONE));
            assertEquals("EPERM", attach(ch, b, OVERRIDE));
            assertEquals("EPERM", attach(ch, b, MULTI));
            assertEquals("EPERM", attach(gc, b, MULTI)); // through the empty parent
            assertEquals(List.of("A"), effective(gc));
        }

        @Test
        void overrideParentIsOverridden() throws Exception {
            Cgroup p = mk("h2");
            Cgroup ch = mk("h2/b");
            Cgroup gc = mk("h2/b/c");
            attach(p, a, OVERRIDE);
            assertEquals("OK", attach(ch, b, NONE));
            assertEquals(List.of("B"), effective(ch));
            assertEquals(List.of("B"), effective(gc));
            assertEquals("EPERM", attach(gc, c, NONE)); // the nearest ancestor with a program decides
        }

        @Test
        void effectiveOrderIsOwnFirstThenMultiAncestors() throws Exception {
            TestProg p0 = TestProg.device("p0");
            TestProg p1 = TestProg.device("p1");
            TestProg p2 = TestProg.device("p2");
            TestProg p3 = TestProg.device("p3");
            Cgroup r = mk("h3");
            Cgroup rb = mk("h3/b");
            Cgroup rbc = mk("h3/b/c");
            Cgroup rbcd = mk("h3/b/c/d");
            attach(r, p0, MULTI);
            attach(r, p1, MULTI);
            attach(rb, p2, MULTI);
            assertEquals("OK", attach(rb, p0, MULTI)); // the same program at two levels
            assertEquals("OK", attach(rbc, p3, NONE));
            assertEquals(List.of("p0", "p1"), effective(r));
            assertEquals(List.of("p2", "p0", "p0", "p1"), effective(rb));
            assertEquals(List.of("p3", "p2", "p0", "p0", "p1"), effective(rbc));
            assertEquals(List.of("p3", "p2", "p0", "p0", "p1"), effective(rbcd));
            assertEquals(List.of(), attached(rbcd));
            assertEquals("EPERM", attach(rbcd, TestProg.device("p4"), MULTI));
        }

        @Test
        void onlyMultiAncestorsContributeOnceSomethingIsCollected() throws Exception {
            TestProg p0 = TestProg.device("p0");
            TestProg p1 = TestProg.device("p1");
            TestProg p2 = TestProg.device("p2");
            Cgroup r = mk("h4");
            Cgroup rb = mk("h4/b");
            Cgroup rbc = mk("h4/b/c");
            Cgroup rbcd = mk("h4/b/c/d");
            attach(r, p0, MULTI);
            assertEquals("OK", attach(rb, p1, OVERRIDE));
            assertEquals("OK", attach(rbc, p2, NONE));
            assertEquals(List.of("p1", "p0"), effective(rb));
            assertEquals(List.of("p2", "p0"), effective(rbc)); // b's override program drops out
            assertEquals(List.of("p2", "p0"), effective(rbcd));
            assertEquals("EPERM", attach(rbcd, TestProg.device("p3"), MULTI));
        }

        @Test
        void parentMayTakeANonOverridableProgramAfterItsChildren() throws Exception {
            TestProg p0 = TestProg.device("p0");
            TestProg p1 = TestProg.device("p1");
            TestProg p3 = TestProg.device("p3");
            Cgroup r = mk("h5");
            Cgroup rb = mk("h5/b");
            Cgroup rbc = mk("h5/b/c");
            attach(rb, p1, MULTI);
            assertEquals("OK", attach(r, p0, NONE));
            assertEquals(List.of("p1"), effective(rb)); // the none program does not reach b
            assertEquals(List.of("p1"), effective(rbc));
            assertEquals("EPERM", attach(rb, TestProg.device("p2"), MULTI)); // but it blocks b now
            assertEquals("OK", attach(rbc, p3, MULTI)); // c's nearest ancestor with programs is b (multi)
            assertEquals(List.of("p3", "p1"), effective(rbc));
            assertEquals("OK", detach(r, p0));
            assertEquals(List.of("p3", "p1"), effective(rbc));
        }
    }

    @Nested
    class Query {
        Cgroup h;
        Cgroup hb;

        void seventyProgs() throws Exception {
            h = mk("h6");
            hb = mk("h6/b");
            for (int i = 0; i < 64; i++) {
                attach(h, TestProg.device("p" + i), MULTI);
            }
            for (int i = 64; i < 70; i++) {
                attach(hb, TestProg.device("p" + i), MULTI);
            }
        }

        @Test
        void zeroBufferGivesCountAndFlagsWithoutError() throws Exception {
            seventyProgs();
            QueryResult q = tree.query(h, CGROUP_DEVICE, false, 0);
            assertEquals(64, q.count());
            assertEquals(MULTI, q.flags());
            assertEquals(List.of(), q.progs());
            assertFalse(q.noSpace());
        }

        @Test
        void shortBufferIsEnospcWithTheTotalCountAndTheFirstIds() throws Exception {
            seventyProgs();
            QueryResult q = tree.query(h, CGROUP_DEVICE, false, 3);
            assertTrue(q.noSpace());
            assertEquals(64, q.count());
            assertEquals(List.of("p0", "p1", "p2"), names(q.progs()));
            assertEquals(MULTI, q.flags());
        }

        @Test
        void effectiveQueryShortBufferToo() throws Exception {
            seventyProgs();
            QueryResult q3 = tree.query(hb, CGROUP_DEVICE, true, 3);
            assertTrue(q3.noSpace());
            assertEquals(70, q3.count());
            assertEquals(List.of("p64", "p65", "p66"), names(q3.progs()));
            QueryResult q69 = tree.query(hb, CGROUP_DEVICE, true, 69);
            assertTrue(q69.noSpace());
            assertEquals(69, q69.progs().size());
            QueryResult q70 = tree.query(hb, CGROUP_DEVICE, true, 70);
            assertFalse(q70.noSpace());
            List<String> want = new ArrayList<>();
            for (int i = 64; i < 70; i++) {
                want.add("p" + i);
            }
            for (int i = 0; i < 64; i++) {
                want.add("p" + i);
            }
            assertEquals(want, names(q70.progs()));
            assertEquals(NONE, q70.flags()); // an effective query always reports flags 0
        }

        @Test
        void effectiveArraysMayExceedSixtyFour() throws Exception {
            seventyProgs();
            assertEquals(70, tree.query(hb, CGROUP_DEVICE, true, 0).count());
            QueryResult own = tree.query(hb, CGROUP_DEVICE, false, 6);
            assertEquals(6, own.count());
            assertFalse(own.noSpace());
        }

        @Test
        void emptyQuery() throws Exception {
            QueryResult q = tree.query(mk("q"), CGROUP_DEVICE, true, 4);
            assertEquals(0, q.count());
            assertEquals(NONE, q.flags());
            assertFalse(q.noSpace());
        }
    }

    @Nested
    class Lifecycle {
        @Test
        void mkdirErrors() throws Exception {
            mk("x");
            assertEquals("EEXIST", errno(() -> tree.mkdir("x")));
            assertEquals("ENOENT", errno(() -> tree.mkdir("nope/y")));
            assertEquals("EEXIST", errno(() -> tree.mkdir("")));
        }

        @Test
        void rmdirErrors() throws Exception {
            mk("x");
            mk("x/y");
            assertEquals("EBUSY", errno(() -> tree.rmdir("x")));
            assertEquals("ENOENT", errno(() -> tree.rmdir("zz")));
            assertEquals("EBUSY", errno(() -> tree.rmdir(""))); // the kernel: rmdir of the cgroup2 mount root
        }

        @Test
        void rmdirWithAttachedProgramsDropsThem() throws Exception {
            Cgroup x = mk("x");
            Cgroup y = mk("x/y");
            attach(x, a, MULTI);
            attach(y, b, MULTI);
            assertEquals("OK", errno(() -> tree.rmdir("x/y")));
            // the removed cgroup, reached through an old handle (the kernel: an fd kept open)
            assertEquals("ENOENT", errno(() -> tree.query(y, CGROUP_DEVICE, false)));
            assertEquals("ENOENT", errno(() -> tree.query(y, CGROUP_DEVICE, true)));
            assertEquals("ENOENT", attach(y, c, MULTI));
            assertEquals("ENOENT", detach(y, c));
            assertEquals("ENOENT", errno(() -> tree.lookup("x/y")));
            assertEquals(1, tree.query(x, CGROUP_DEVICE, true).count());
            Cgroup y2 = mk("x/y");
            assertEquals(0, tree.query(y2, CGROUP_DEVICE, false).count());
            assertEquals(List.of("A"), effective(y2)); // a new cgroup inherits
            assertTrue(y2.id() != y.id());
            assertEquals("OK", errno(() -> tree.rmdir("x/y")));
            assertEquals("OK", errno(() -> tree.rmdir("x")));
            assertEquals(1, tree.size());
        }

        @Test
        void programTypeErrorsComeBeforeTheRemovedCgroup() throws Exception {
            Cgroup x = mk("x");
            tree.rmdir("x");
            assertEquals("EINVAL", attach(x, skb, NONE));
            assertEquals("ENOENT", attach(x, a, AttachFlag.exactly(3))); // the cgroup before the flags
        }

        @Test
        void idsAreUniqueAndNeverReused() throws Exception {
            long root = tree.root().id();
            Cgroup x = mk("x");
            tree.rmdir("x");
            Cgroup x2 = mk("x");
            assertTrue(x.id() > root);
            assertTrue(x2.id() > x.id());
            assertEquals("x", x2.path());
            assertEquals(x2, tree.lookup("x"));
        }
    }
}
