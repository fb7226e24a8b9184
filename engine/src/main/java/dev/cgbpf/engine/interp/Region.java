package dev.cgbpf.engine.interp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One mapped area of the engine's 64-bit address space: a stack frame, a packet, the values of a
 * map, a map object or the program context. Every load and store names its region, so a bad
 * pointer faults with a message such as {@code invalid read of 4 bytes at stack[0]-520} instead of
 * touching a neighbour.
 *
 * <p>Addresses: region slot {@code s} covers {@code [s << 32, (s + 1) << 32)} and its byte 0 sits
 * in the middle of that window, at {@code (s << 32) + 2^31}. Pointer arithmetic is plain long
 * math, and a pointer that strays up to 2 GiB below or above its region still decodes to that
 * region, which is what makes the fault messages exact.
 *
 * <p>Element-granular regions (map values) hold {@code length / stride} elements of
 * {@code elemSize} bytes each at a {@code stride} of {@code elemSize} rounded up to 8, as the
 * kernel lays out array and hash values; an access must stay inside one element.
 */
public final class Region {
    /** Offset of byte 0 inside a slot's 4 GiB window. */
    static final long ORIGIN = 1L << 31;
    /** Slot numbers start here, so that small integers and NULL never decode to a region. */
    static final int SLOT_BIAS = 0x1000;

    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /** What a region is, which decides how accesses are checked. */
    public enum Kind { STACK, PACKET, MAP_VALUE, MAP_OBJECT, CTX, RINGBUF_DATA }

    final String name;
    final Kind kind;
    final int slot;
    final long base;
    final byte[] bytes;
    final int length;
    final int stride;
    /** stride - 1 when the stride is a power of two (an element's offset is then a mask, not a division), else -1. */
    private final int strideMask;
    final int elemSize;
    final boolean writable;
    /** The map behind a MAP_OBJECT or MAP_VALUE region, else null. */
    final BpfMapOps map;
    /** The context behind a CTX region, else null. */
    final ProgContext ctx;

    private Region(String name, Kind kind, int slot, byte[] bytes, int length, int stride, int elemSize,
                   boolean writable, BpfMapOps map, ProgContext ctx) {
        this.name = name;
        this.kind = kind;
        this.slot = slot;
        this.base = baseOf(slot);
        this.bytes = bytes;
        this.length = length;
        this.stride = stride;
        this.strideMask = stride > 0 && Integer.bitCount(stride) == 1 ? stride - 1 : -1;
        this.elemSize = elemSize;
        this.writable = writable;
        this.map = map;
        this.ctx = ctx;
    }

    static long baseOf(int slot) {
        return ((long) (slot + SLOT_BIAS) << 32) + ORIGIN;
    }

    /** The slot an address falls into (possibly not a mapped one). */
    static int slotOf(long address) {
        return (int) (address >>> 32) - SLOT_BIAS;
    }

    public static Region stack(int slot, int frame, byte[] bytes) {
        return new Region("stack[" + frame + "]", Kind.STACK, slot, bytes, bytes.length, 0, 0, true, null, null);
    }

    public static Region packet(int slot, byte[] bytes, boolean writable) {
        return new Region("pkt", Kind.PACKET, slot, bytes, bytes.length, 0, 0, writable, null, null);
    }

    public static Region ctx(int slot, ProgContext ctx) {
        return new Region("ctx", Kind.CTX, slot, null, ctx.size(), 0, 0, true, null, ctx);
    }

    /** The values of a map: {@code count} elements of {@code elemSize} bytes at an 8-byte-rounded stride. */
    public static Region mapValues(int slot, BpfMapOps map, String name, int elemSize, int count) {
        int stride = roundUp8(elemSize);
        return new Region(name, Kind.MAP_VALUE, slot, new byte[Math.multiplyExact(stride, count)],
                stride * count, stride, elemSize, true, map, null);
    }

    /**
     * The data area of a ring buffer map: {@code length} plain bytes (no elements) that
     * bpf_ringbuf_reserve hands out pieces of; the verifier keeps each program inside its record.
     */
    public static Region ringData(int slot, BpfMapOps map, String name, int length) {
        return new Region(name, Kind.RINGBUF_DATA, slot, new byte[length], length, 0, 0, true, map, null);
    }

    /** A map object: what LD_IMM64 src=PSEUDO_MAP_FD yields; programs may pass it to helpers only. */
    public static Region mapObject(int slot, BpfMapOps map, String name) {
        return new Region(name, Kind.MAP_OBJECT, slot, null, 0, 0, 0, false, map, null);
    }

    public static int roundUp8(int n) {
        return (n + 7) & ~7;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public long base() {
        return base;
    }

    public int length() {
        return length;
    }

    public byte[] bytes() {
        return bytes;
    }

    public BpfMapOps map() {
        return map;
    }

    public ProgContext ctx() {
        return ctx;
    }

    /** The address of element {@code index} of an element-granular region. */
    public long elementAddress(int index) {
        return base + (long) index * stride;
    }

    /** Byte offset of {@code address} in this region (negative or past the end when out of bounds). */
    long offsetOf(long address) {
        return address - base;
    }

    /**
     * Human form of an address relative to this region: {@code ctx+30}, {@code pkt+2}; a stack
     * address relative to its frame pointer, as the program wrote it: {@code stack[0]-520}.
     */
    String describe(long offset) {
        long shown = kind == Kind.STACK ? offset - length : offset;
        return shown < 0 ? name + shown : name + "+" + shown;
    }

    /**
     * Checks that {@code size} bytes at {@code offset} may be accessed and returns the offset as an
     * index into {@link #bytes}.
     */
    int check(long offset, int size, boolean write) {
        if (bytes == null) {
            throw new Fault(access(write, size) + " at " + describe(offset) + " (" + kindWord() + ")");
        }
        if (offset < 0 || offset + size > length) {
            throw new Fault(access(write, size) + " at " + describe(offset) + " (" + name + " is " + length
                    + " bytes)");
        }
        // offset is in [0, length) here, so an int remainder (cheaper than a long one) is exact
        if (stride != 0 && (strideMask >= 0 ? (int) offset & strideMask : (int) offset % stride) + size > elemSize) {
            throw new Fault(access(write, size) + " at " + describe(offset) + " (value_size is " + elemSize + ")");
        }
        if (write && !writable) {
            throw new Fault(access(true, size) + " at " + describe(offset) + " (" + name + " is read-only)");
        }
        return (int) offset;
    }

    private String kindWord() {
        return kind == Kind.MAP_OBJECT ? "a map object can only be passed to helpers" : "not memory";
    }

    static String access(boolean write, int size) {
        return (write ? "invalid write of " : "invalid read of ") + size + (size == 1 ? " byte" : " bytes");
    }

    long load(int index, int size) {
        return switch (size) {
            case 1 -> bytes[index] & 0xffL;
            case 2 -> (short) SHORTS.get(bytes, index) & 0xffffL;
            case 4 -> (int) INTS.get(bytes, index) & 0xffffffffL;
            default -> (long) LONGS.get(bytes, index);
        };
    }

    void store(int index, int size, long value) {
        switch (size) {
            case 1 -> bytes[index] = (byte) value;
            case 2 -> SHORTS.set(bytes, index, (short) value);
            case 4 -> INTS.set(bytes, index, (int) value);
            default -> LONGS.set(bytes, index, value);
        }
    }
}
