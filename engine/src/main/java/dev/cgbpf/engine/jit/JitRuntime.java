package dev.cgbpf.engine.jit;

import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.BpfMapOps;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Helper;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.Region;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * What compiled programs call besides the machine and the helpers: stack frames, direct stack
 * accesses (at offsets the compiler proved inside the frame), faults and the hand-over to the
 * interpreter. Public because the compiled classes are hidden classes of this package's lookup;
 * nothing else calls it.
 */
public final class JitRuntime {
    // little-endian views of byte arrays; compiled code invokes them itself (ProgramEmitter.view)
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private JitRuntime() {
    }

    /** The bytes of the stack frame of call depth {@code depth} (made at first use, as the interpreter does). */
    public static byte[] stack(Machine m, int depth) {
        return m.frame(depth).bytes();
    }

    /** r10 of call depth {@code depth}. */
    public static long fp(Machine m, int depth) {
        return m.frameTop(depth);
    }

    /** The size of the run's context, or -1 without one (the context fast path then never applies). */
    public static int ctxSize(ProgContext ctx) {
        return ctx == null ? -1 : ctx.size();
    }

    /** The context's direct reads (see {@link ProgContext#directReads}); none without a context. */
    public static byte[] ctxReads(ProgContext ctx) {
        return ctx == null ? ProgContext.NO_DIRECT_READS : ctx.directReads();
    }

    /** The image the direct reads read (null when there are none). */
    public static byte[] ctxImage(ProgContext ctx) {
        return ctx == null ? null : ctx.image();
    }

    /**
     * bpf_map_lookup_elem with a 4-byte key the compiler proved in the running frame at
     * {@code key}, inlined as the kernel's map_gen_lookup: for the engine's own lookup helper and
     * a map with 4-byte keys the element index comes from the key's int (an array map: a bounds
     * check against max_entries) and the value's address from the map; anything else (another
     * helper in the table, a map the helper refuses, other key sizes) is the helper's call, with
     * its results and faults. A pointer that is not a map faults as the helper does.
     */
    public static long mapLookup(Machine m, long r1, long r2, long r3, long r4, long r5, byte[] stack, int key) {
        Helper h = m.helpers().get(BaseHelpers.MAP_LOOKUP_ELEM);
        if (h == BaseHelpers.MAP_LOOKUP) {
            BpfMapOps em = m.mapObject(r1).map();
            if (em.helperAccessible() && em.spec().keySize() == 4 && !em.spec().type().holdsSockets()) {
                int i = em.lookupIndex32((int) INTS.get(stack, key));
                return i < 0 ? 0 : em.valueAddress(i);
            }
        }
        return h.call(m, r1, r2, r3, r4, r5);
    }

    /**
     * An array map as one lookup site of a run sees it, resolved at the site's first call in the
     * run (the map of a constant r1 cannot change during it): its max_entries and the bytes,
     * base, length and element layout of its values region. {@link #NO_VIEW}: the site's lookups
     * go through {@link #mapLookup}.
     */
    public static final class ArrayView {
        final int max;
        final long base;
        final byte[] bytes;
        final int length;
        final int stride;
        final int elem;

        ArrayView(int max, long base, byte[] bytes, int length, int stride, int elem) {
            this.max = max;
            this.base = base;
            this.bytes = bytes;
            this.length = length;
            this.stride = stride;
            this.elem = elem;
        }
    }

    public static final ArrayView NO_VIEW = new ArrayView(0, 0, new byte[0], 0, 8, 0);

    /**
     * Resolves the lookup site whose r1 is the constant {@code map}: an {@link ArrayView} when the
     * machine's lookup helper is the engine's own and the map an array map the helper accepts,
     * else {@link #NO_VIEW}. Faults as the helper call would (no lookup helper, not a map).
     */
    public static ArrayView arrayView(Machine m, long map) {
        Helper h = m.helpers().get(BaseHelpers.MAP_LOOKUP_ELEM);
        if (h != BaseHelpers.MAP_LOOKUP) {
            return NO_VIEW;
        }
        BpfMapOps em = m.mapObject(map).map();
        int max = em.arrayMaxEntries();
        if (!em.helperAccessible() || em.spec().keySize() != 4 || max <= 0) {
            return NO_VIEW;
        }
        Region values = m.region(em.valueAddress(0), 1, false);
        int stride = Region.roundUp8(em.spec().valueSize());
        if (values.kind() != Region.Kind.MAP_VALUE || values.bytes() == null || stride <= 0
                || Integer.bitCount(stride) != 1) {
            return NO_VIEW;
        }
        return new ArrayView(max, values.base(), values.bytes(), values.length(), stride, em.spec().valueSize());
    }

    /** bpf_map_lookup_elem at a resolved site: the array's bounds check and address, or {@link #mapLookup}. */
    public static long arrayLookup(ArrayView v, Machine m, long r1, long r2, long r3, long r4, long r5, byte[] stack,
                                   int key) {
        if (v != NO_VIEW) {
            int k = (int) INTS.get(stack, key);
            return Integer.compareUnsigned(k, v.max) < 0 ? v.base + (k & 0xffffffffL) * v.stride : 0;
        }
        return mapLookup(m, r1, r2, r3, r4, r5, stack, key);
    }

    /**
     * The index in the view's bytes of a {@code size}-byte read at {@code address}, or -1 when
     * the read is not one the values region allows as {@link Machine#load} checks it (the caller
     * then takes that path, with its fault).
     */
    public static int valueIndex(ArrayView v, long address, int size) {
        if (v == null) {
            return -1;
        }
        long o = address - v.base;
        if (o < 0 || o > v.length - size || ((int) o & (v.stride - 1)) + size > v.elem) {
            return -1;
        }
        return (int) o;
    }

    /** The view's bytes (read only after {@link #valueIndex} allowed it). */
    public static byte[] valueBytes(ArrayView v) {
        return v.bytes;
    }

    /**
     * A context read the compiled code does not make directly: the context's checked load at
     * offset {@code co} (its fault for a field its rule refuses), or beyond the context's end (or
     * without a context) the machine's at the address r1 held at entry plus {@code co}, where the
     * flow proved the base register points.
     */
    public static long ctxLoad(Machine m, int co, int size) {
        ProgContext ctx = m.ctx();
        return ctx != null && co < ctx.size() ? ctx.load(co, size) : m.load(m.ctxAddress() + co, size);
    }

    /** A fault raised by compiled code itself (the interpreter's words for the same case). */
    public static Fault fault(String reason) {
        return new Fault(reason);
    }

    /** A fault below instruction {@code pc}, named as the interpreter names it. */
    public static ProgramFault programFault(Fault f, int pc) {
        return new ProgramFault(pc, f.getMessage());
    }

    /** Atomic read-modify-write (not CMPXCHG): the old value. */
    public static long atomicRmw(Machine m, int op, long address, int size, long operand) {
        return m.atomicRmw(op, address, size, operand);
    }

    /** The interpreter's run from {@code pc} on, with the compiled code's state (see {@link Interpreter#resume}). */
    public static long resume(Interpreter interp, Machine m, long budget, long remaining, long[] regs, int pc,
                              int depth, int[] returnPcs, long[] saved) {
        return interp.resume(m, budget, remaining, regs, pc, depth, returnPcs, saved);
    }
}
