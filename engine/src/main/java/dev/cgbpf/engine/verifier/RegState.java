package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.MapSpec;
import java.util.Objects;

/**
 * One register's abstract value (the kernel's struct bpf_reg_state): its type, and for pointers
 * the fixed offset {@code off} plus a variable offset described by {@code val}; for scalars
 * {@code val} is the value itself. {@code maybeNull} is PTR_MAYBE_NULL: a lookup result not yet
 * compared with 0. {@code id} ties copies of one maybe-null pointer (or one packet pointer) together
 * so a check on one applies to all; {@code range} is the proven readable bytes of a packet pointer
 * and the size of the memory a ring buffer pointer points to (mem_size, in a union with range in
 * the kernel).
 * {@code frameno} is the call frame a stack pointer points into (0 = the main program's);
 * {@code refObjId} ties a register to an acquired reference (a socket from a lookup, ring buffer
 * memory) that must be released before exit: releasing it invalidates every register carrying it.
 * {@code dynptrId} is the id of the dynptr a bpf_dynptr_data slice came from: destroying that
 * dynptr invalidates the slice.
 * Immutable: transitions make new states.
 */
public record RegState(RegType type, boolean maybeNull, int off, Scalar val, int id, int range, MapSpec map,
                       int mapFd, int frameno, int refObjId, int dynptrId) {

    /** A register not derived from a dynptr (dynptr_id 0). */
    public RegState(RegType type, boolean maybeNull, int off, Scalar val, int id, int range, MapSpec map, int mapFd,
                    int frameno, int refObjId) {
        this(type, maybeNull, off, val, id, range, map, mapFd, frameno, refObjId, 0);
    }

    /** A register with no frame number and no reference. */
    public RegState(RegType type, boolean maybeNull, int off, Scalar val, int id, int range, MapSpec map, int mapFd) {
        this(type, maybeNull, off, val, id, range, map, mapFd, 0, 0);
    }

    /**
     * BPF_ADD_CONST64 and BPF_ADD_CONST32: set in a scalar's id when it is a linked copy moved by a
     * constant (rX = rY; rX += 2, or wX += 2): {@code off} then holds the constant, and what a
     * branch proves about rY it proves about rX shifted by it (in 32 bits, zero-extended, for the
     * 32-bit flag). {@link #ADD_CONST} is either.
     */
    static final int ADD_CONST64 = 1 << 31;
    static final int ADD_CONST32 = 1 << 30;
    static final int ADD_CONST = ADD_CONST64 | ADD_CONST32;

    public static final RegState NOT_INIT = new RegState(RegType.NOT_INIT, false, 0, Scalar.UNKNOWN, 0, 0, null, 0);
    public static final RegState UNKNOWN = scalar(Scalar.UNKNOWN);

    public static RegState scalar(Scalar s) {
        return new RegState(RegType.SCALAR, false, 0, s, 0, 0, null, 0);
    }

    public static RegState constant(long v) {
        return scalar(Scalar.constant(v));
    }

    public static RegState pointer(RegType t, int off) {
        return new RegState(t, false, off, Scalar.constant(0), 0, 0, null, 0);
    }

    public boolean isScalar() {
        return type == RegType.SCALAR;
    }

    public boolean isInit() {
        return type != RegType.NOT_INIT;
    }

    public boolean isPointer() {
        return type.isPointer();
    }

    public boolean isConst() {
        return isScalar() && val.isConst();
    }

    /** register_is_null: a scalar known to be 0. */
    public boolean isNullConst() {
        return isConst() && val.constValue() == 0;
    }

    /** A pointer whose variable part is known: off plus a constant. */
    public boolean hasConstOffset() {
        return val.isConst();
    }

    public RegState withVal(Scalar v) {
        return new RegState(type, maybeNull, off, v, id, range, map, mapFd, frameno, refObjId, dynptrId);
    }

    public RegState withOff(int o) {
        return new RegState(type, maybeNull, o, val, id, range, map, mapFd, frameno, refObjId, dynptrId);
    }

    public RegState withId(int i) {
        return new RegState(type, maybeNull, off, val, i, range, map, mapFd, frameno, refObjId, dynptrId);
    }

    public RegState withRange(int r) {
        return new RegState(type, maybeNull, off, val, id, r, map, mapFd, frameno, refObjId, dynptrId);
    }

    public RegState withFrameno(int f) {
        return new RegState(type, maybeNull, off, val, id, range, map, mapFd, f, refObjId, dynptrId);
    }

    public RegState withRefObjId(int r) {
        return new RegState(type, maybeNull, off, val, id, range, map, mapFd, frameno, r, dynptrId);
    }

    public RegState withDynptrId(int d) {
        return new RegState(type, maybeNull, off, val, id, range, map, mapFd, frameno, refObjId, d);
    }

    public RegState nonNull() {
        return new RegState(type, false, off, val, id, range, map, mapFd, frameno, refObjId, dynptrId);
    }

    /** reg_type_str: the type as the log names it, e.g. {@code map_value_or_null}. */
    public String typeName() {
        return type.logName() + (maybeNull ? "_or_null" : "");
    }

    /**
     * reg_not_null: the pointers the kernel trusts to be non-NULL when compared with 0. Context,
     * stack and packet pointers are not among them (6.18 follows both branches of "ctx == 0").
     */
    public boolean notNull() {
        if (maybeNull) {
            return false;
        }
        return switch (type) {
            case CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE, PTR_TO_SOCKET, PTR_TO_SOCK_COMMON, PTR_TO_TCP_SOCK,
                    PTR_TO_RINGBUF_MEM, PTR_TO_MEM, PTR_TO_BTF_ID -> true;
            default -> false;
        };
    }

    /**
     * regsafe: true when everything this (the current path's) register allows was already proven
     * safe with {@code old} in its place. Conservative: exact match for pointers.
     */
    boolean within(RegState old, IdMap ids) {
        if (old.type == RegType.NOT_INIT) {
            return true; // the old path never read it before writing it
        }
        if (old.type != type) {
            return false;
        }
        if (type == RegType.SCALAR) {
            return val.within(old.val) && ids.checkScalar(old.id, id, old.off, off);
        }
        return maybeNull == old.maybeNull && off == old.off && val.equals(old.val) && range >= old.range
                && Objects.equals(map, old.map) && mapFd == old.mapFd && frameno == old.frameno
                && ids.check(old.id, id) && ids.check(old.refObjId, refObjId) && ids.check(old.dynptrId, dynptrId);
    }
}
