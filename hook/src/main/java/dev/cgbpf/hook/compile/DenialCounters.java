package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.engine.isa.Size;

/**
 * The per-container denial counters the programs increment when they refuse: an array map made
 * by the caller ({@link #SPEC}), key a u32 {@link DenialReason#key()}, value a u64 count. The
 * compilers refer to it by fd (LD_IMM64 src=PSEUDO_MAP_FD), so the same program text works with
 * a kernel map fd and an engine map handle.
 *
 * @param mapFd the map's fd in the backend that will load the programs; negative for no counting
 */
public record DenialCounters(int mapFd) {
    /** Slots reserved for reasons, more than used today so the pinned map's format can grow. */
    public static final int SLOTS = 8;
    public static final MapSpec SPEC = new MapSpec("cgbpf_denials", MapType.ARRAY, 4, 8, SLOTS, 0);
    /** Programs without counting (for listings and tests of the decision alone). */
    public static final DenialCounters NONE = new DenialCounters(-1);
    /**
     * Counting, in a map that does not exist yet: the programs refer to a placeholder fd (never a
     * real one) that {@link CompiledProgram#withCounters} replaces once the map is made.
     */
    public static final DenialCounters UNBOUND = new DenialCounters(Integer.MAX_VALUE);

    public boolean enabled() {
        return mapFd >= 0;
    }

    /**
     * Emits the refusal tail: count {@code reason} (lookup of the slot, atomic add of 1, nothing
     * when the lookup fails) and return 0. Clobbers r0-r5; ctx must not be needed afterwards.
     */
    void emitDeny(Asm a, DenialReason reason, String skipLabel) {
        if (enabled()) {
            // r1 = &cgbpf_denials;                          // LD_IMM64 of the map fd
            // r2 = r10 - 4; *(u32 *)(r10 - 4) = REASON;     // u32 key = REASON, on the stack
            // r0 = bpf_map_lookup_elem(r1, r2);             // u64 *count
            // if (r0 == NULL) goto skip;                    // (never for a key below SLOTS; the verifier insists)
            // r1 = 1; lock *(u64 *)(r0 + 0) += r1;          // __sync_fetch_and_add(count, 1)
            // skip:
            a.ldMapFd(Reg.R1, mapFd)
                    .mov(Reg.R2, Reg.R10)
                    .add(Reg.R2, -4)
                    .stW(Reg.R10, -4, reason.key())
                    .call("bpf_map_lookup_elem")
                    .jeq(Reg.R0, 0, skipLabel)
                    .movImm(Reg.R1, 1)
                    .atomicAdd(Size.DW, Reg.R0, 0, Reg.R1)
                    .label(skipLabel);
        }
        // return 0;                                         // refuse: EPERM for a syscall, a drop for a packet
        a.movImm(Reg.R0, 0).exit();
    }
}
