package dev.cgbpf.engine.interp;

/**
 * The state of one program run besides the registers: the run's own regions (context, packet,
 * stack frames), the shared address space with the map values, and the helper table. Every memory
 * access of the program and of its helpers goes through here and is bounds- and region-checked.
 *
 * <p>One machine serves one thread; a test run with {@code repeat} reuses it (and so keeps the
 * context, as the kernel reuses the skb).
 */
public final class Machine {
    public static final int STACK_SIZE = 512;
    /** MAX_CALL_FRAMES of the kernel: the main program and up to 7 nested bpf-to-bpf calls. */
    public static final int MAX_FRAMES = 8;

    private final AddressSpace space;
    private final Region[] local = new Region[AddressSpace.RUN_SLOTS];
    private final HelperTable helpers;
    private final ProgContext ctx;
    private final Object env;
    /** Tail calls made by the run in progress (the kernel's tail_call_cnt), see {@link TailCall}. */
    private int tailCalls;

    public Machine(AddressSpace space, HelperTable helpers, ProgContext ctx) {
        this(space, helpers, ctx, null);
    }

    /**
     * @param env what the helpers of a hook need besides the context (the kernel reaches it through
     *            current and the run context: the task's cgroup, the slot being run, the socket); may be null
     */
    public Machine(AddressSpace space, HelperTable helpers, ProgContext ctx, Object env) {
        this.space = space;
        this.helpers = helpers;
        this.ctx = ctx;
        this.env = env;
        if (ctx != null) {
            local[AddressSpace.CTX_SLOT] = Region.ctx(AddressSpace.CTX_SLOT, ctx);
            if (ctx.packet() != null) {
                local[AddressSpace.PACKET_SLOT] = ctx.packet().region();
            }
            for (Region r : ctx.regions()) {
                if (r.slot < 0 || r.slot >= AddressSpace.RUN_SLOTS || r.slot == AddressSpace.CTX_SLOT
                        || (r.slot >= AddressSpace.FIRST_STACK_SLOT && r.slot < AddressSpace.SOCK_SLOT)) {
                    throw new IllegalArgumentException("context region " + r.name + " in slot " + r.slot
                            + " is not a free run-local slot");
                }
                local[r.slot] = r;
            }
        }
    }

    /** The hook's environment as the helper expects it; a helper called where it has none faults. */
    public <T> T env(Class<T> type) {
        if (!type.isInstance(env)) {
            throw new Fault("helper needs a " + type.getSimpleName() + " run environment, which this run has not");
        }
        return type.cast(env);
    }

    /** A new run begins: no tail calls made yet. */
    void startRun() {
        tailCalls = 0;
    }

    /** Counts one more tail call; false when the run already made MAX_TAIL_CALL_CNT of them. */
    boolean countTailCall() {
        if (tailCalls >= TailCall.MAX_TAIL_CALL_CNT) {
            return false;
        }
        tailCalls++;
        return true;
    }

    public ProgContext ctx() {
        return ctx;
    }

    /** The address r1 holds at entry. */
    public long ctxAddress() {
        return ctx == null ? 0 : local[AddressSpace.CTX_SLOT].base;
    }

    public HelperTable helpers() {
        return helpers;
    }

    /** The frame pointer (r10) of call depth {@code depth}: one past the top of its own 512 bytes. */
    public long frameTop(int depth) {
        return frame(depth).base + STACK_SIZE;
    }

    /** The stack frame of call depth {@code depth}, made at its first use and kept for later runs. */
    public Region frame(int depth) {
        int slot = AddressSpace.FIRST_STACK_SLOT + depth;
        Region r = local[slot];
        if (r == null) {
            r = Region.stack(slot, depth, new byte[STACK_SIZE]);
            local[slot] = r;
        }
        return r;
    }

    /**
     * Maps a region a helper hands to the program for the rest of this run (a socket it looked
     * up) into the first free run-local slot after the context's socket; {@code make} builds it
     * for that slot. Returns its base address, or 0 (NULL) when every slot is taken.
     */
    public long mapRunLocal(java.util.function.IntFunction<Region> make) {
        return mapRunLocal(r -> false, make);
    }

    /**
     * As {@link #mapRunLocal(java.util.function.IntFunction)}, but a region this run already holds
     * that {@code same} accepts is handed out again: the kernel's helpers return one address per
     * socket, however often it is looked up.
     */
    public long mapRunLocal(java.util.function.Predicate<Region> same, java.util.function.IntFunction<Region> make) {
        for (int slot = AddressSpace.SOCK_SLOT + 1; slot < AddressSpace.RUN_SLOTS; slot++) {
            if (local[slot] != null && same.test(local[slot])) {
                return local[slot].base;
            }
        }
        for (int slot = AddressSpace.SOCK_SLOT + 1; slot < AddressSpace.RUN_SLOTS; slot++) {
            if (local[slot] == null) {
                Region r = make.apply(slot);
                local[slot] = r;
                return r.base;
            }
        }
        return 0;
    }

    /**
     * Unmaps the run-local regions a helper handed out that {@code gone} accepts (what a released
     * reference leads to: the verifier lets no pointer to them live past the release), freeing their
     * slots for later helpers of the run.
     */
    public void unmapRunLocal(java.util.function.Predicate<Region> gone) {
        for (int slot = AddressSpace.SOCK_SLOT + 1; slot < AddressSpace.RUN_SLOTS; slot++) {
            if (local[slot] != null && gone.test(local[slot])) {
                local[slot] = null;
            }
        }
    }

    /** The region an address falls into, or a fault naming the raw address. */
    public Region region(long address, int size, boolean write) {
        int slot = Region.slotOf(address);
        Region r = slot >= 0 && slot < AddressSpace.RUN_SLOTS ? local[slot] : space.shared(slot);
        if (r == null) {
            throw new Fault(Region.access(write, size) + " at 0x" + Long.toHexString(address)
                    + (address == 0 ? " (NULL)" : " (not a pointer into any region)"));
        }
        return r;
    }

    public long load(long address, int size) {
        Region r = region(address, size, false);
        long off = address - r.base;
        if (r.ctx != null) {
            return r.ctx.load(ctxOffset(r, off, size, false), size);
        }
        return r.load(r.check(off, size, false), size);
    }

    public void store(long address, int size, long value) {
        Region r = region(address, size, true);
        long off = address - r.base;
        if (r.ctx != null) {
            r.ctx.store(ctxOffset(r, off, size, true), size, value);
            return;
        }
        r.store(r.check(off, size, true), size, value);
    }

    private static int ctxOffset(Region r, long off, int size, boolean write) {
        if (off < 0 || off >= r.length) {
            throw new Fault(Region.access(write, size) + " at " + r.describe(off) + " (ctx is " + r.length + " bytes)");
        }
        return (int) off;
    }

    /** Checked plain-memory access for atomics: aligned, writable memory (the verifier refuses ctx). */
    private Region atomicRegion(long address, int size) {
        Region r = region(address, size, true);
        if (r.ctx != null || r.bytes == null) {
            throw new Fault("atomic operation on " + r.describe(address - r.base) + " is not allowed");
        }
        if ((address & (size - 1)) != 0) {
            throw new Fault("misaligned atomic access of " + size + " bytes at " + r.describe(address - r.base));
        }
        return r;
    }

    /**
     * An atomic read-modify-write (BPF_ADD/OR/AND/XOR/XCHG with imm's low bits cleared of
     * BPF_FETCH); returns the old value, zero-extended for 32 bits.
     */
    public long atomicRmw(int op, long address, int size, long operand) {
        Region r = atomicRegion(address, size);
        int i = r.check(address - r.base, size, true);
        if (size == 8) {
            return switch (op) {
                case 0x00 -> (long) Region.LONGS.getAndAdd(r.bytes, i, operand);
                case 0x40 -> (long) Region.LONGS.getAndBitwiseOr(r.bytes, i, operand);
                case 0x50 -> (long) Region.LONGS.getAndBitwiseAnd(r.bytes, i, operand);
                case 0xa0 -> (long) Region.LONGS.getAndBitwiseXor(r.bytes, i, operand);
                case 0xe0 -> (long) Region.LONGS.getAndSet(r.bytes, i, operand);
                default -> throw new Fault("unknown atomic operation 0x" + Integer.toHexString(op));
            };
        }
        int v = (int) operand;
        int old = switch (op) {
            case 0x00 -> (int) Region.INTS.getAndAdd(r.bytes, i, v);
            case 0x40 -> (int) Region.INTS.getAndBitwiseOr(r.bytes, i, v);
            case 0x50 -> (int) Region.INTS.getAndBitwiseAnd(r.bytes, i, v);
            case 0xa0 -> (int) Region.INTS.getAndBitwiseXor(r.bytes, i, v);
            case 0xe0 -> (int) Region.INTS.getAndSet(r.bytes, i, v);
            default -> throw new Fault("unknown atomic operation 0x" + Integer.toHexString(op));
        };
        return old & 0xffffffffL;
    }

    /** BPF_CMPXCHG: compares with {@code expected} (r0), stores {@code value} on a match, returns the old value. */
    public long atomicCmpxchg(long address, int size, long expected, long value) {
        Region r = atomicRegion(address, size);
        int i = r.check(address - r.base, size, true);
        if (size == 8) {
            return (long) Region.LONGS.compareAndExchange(r.bytes, i, expected, value);
        }
        return (int) Region.INTS.compareAndExchange(r.bytes, i, (int) expected, (int) value) & 0xffffffffL;
    }

    /** Copies {@code len} bytes of program memory, e.g. a key a helper receives by pointer. */
    public byte[] readBytes(long address, int len) {
        Region r = region(address, len, false);
        long off = address - r.base;
        if (r.ctx != null) {
            byte[] out = new byte[len];
            for (int k = 0; k < len; k++) {
                out[k] = (byte) r.ctx.load(ctxOffset(r, off + k, 1, false), 1);
            }
            return out;
        }
        int i = r.check(off, len, false);
        byte[] out = new byte[len];
        System.arraycopy(r.bytes, i, out, 0, len);
        return out;
    }

    /** Copies bytes into program memory that a helper writes whole (a ring buffer record, a dynptr's data). */
    public void writeBytes(long address, byte[] bytes) {
        Region r = region(address, bytes.length, true);
        System.arraycopy(bytes, 0, r.bytes, r.check(address - r.base, bytes.length, true), bytes.length);
    }

    /** The region of a map object pointer a helper receives (r1 of the map helpers). */
    public Region mapObject(long address) {
        int slot = Region.slotOf(address);
        Region r = slot >= AddressSpace.RUN_SLOTS ? space.shared(slot) : null;
        if (r == null || r.kind != Region.Kind.MAP_OBJECT || address != r.base) {
            throw new Fault("R1 is not a map pointer (0x" + Long.toHexString(address) + ")");
        }
        return r;
    }

    /** SKF_NET_OFF and SKF_LL_OFF of linux/filter.h: negative LD_ABS offsets relative to a header. */
    static final int SKF_NET_OFF = -0x100000;
    static final int SKF_LL_OFF = -0x200000;

    /**
     * A legacy packet load (LD_ABS/LD_IND) in network byte order, zero-extended; -1 when the
     * bytes are not in the packet, on which the kernel ends the program with r0 = 0.
     * Offsets {@code >= 0} count from skb->data; negative ones as bpf_internal_load_pointer_neg_helper
     * takes them: from SKF_NET_OFF relative to the network header, from SKF_LL_OFF relative to the
     * link-layer header, anything lower is out of bounds.
     */
    public long loadAbs(int offset, int size) {
        Packet p = ctx == null ? null : ctx.packet();
        if (p == null) {
            throw new Fault("packet load (ld_abs/ld_ind) in a program type without a packet");
        }
        long at;
        if (offset >= 0) {
            at = (long) p.data() + offset;
        } else if (offset >= SKF_NET_OFF) {
            at = (long) p.network() + (offset - SKF_NET_OFF);
        } else if (offset >= SKF_LL_OFF) {
            at = (long) p.mac() + (offset - SKF_LL_OFF);
        } else {
            return -1;
        }
        if (at + size > p.tail()) {
            return -1;
        }
        byte[] b = p.region().bytes();
        long v = 0;
        for (int i = 0; i < size; i++) {
            v = (v << 8) | (b[(int) at + i] & 0xff);
        }
        return v;
    }
}
