package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.engine.isa.Size;

/**
 * What a refusal leaves behind: a count in the per-container denial counters, an array map made
 * by the caller ({@link #SPEC}), key a u32 {@link DenialReason#key()}, value a u64 count; and,
 * where the program has events, one {@link EventLayout} record in the host's ring buffer
 * ({@link #EVENTS_SPEC}). The compilers refer to both maps by fd (LD_IMM64 src=PSEUDO_MAP_FD), so
 * the same program text works with a kernel map fd and an engine map handle.
 *
 * @param mapFd the counter map's fd in the backend that will load the programs; negative for no counting
 * @param eventsFd the ring buffer's fd (a kernel map fd or an engine map handle); negative for no events
 */
public record DenialCounters(int mapFd, int eventsFd) {
    /** Slots reserved for reasons, more than used today so the pinned map's format can grow. */
    public static final int SLOTS = 8;
    public static final MapSpec SPEC = new MapSpec("cgbpf_denials", MapType.ARRAY, 4, 8, SLOTS, 0);
    /**
     * The counter slot of events the ring buffer had no room for (bpf_ringbuf_output failed):
     * not a {@link DenialReason} (the denial itself is counted in its own slot), so that
     * {@code cgbpf status} keeps its four counters. Part of the pinned map's format.
     */
    public static final int EVENTS_LOST = 5;
    /**
     * The host's one ring buffer (why one per host and not per container: one reader, one fd to
     * poll, and a memory bound that does not grow with the number of containers; the record
     * carries the cgroup id). 512 KiB: 6,553 records of 80 bytes (72 and the kernel's header).
     */
    public static final MapSpec EVENTS_SPEC = new MapSpec("cgbpf_events", MapType.RINGBUF, 0, 0, 512 * 1024, 0);
    /** Programs without counting (for listings and tests of the decision alone). */
    public static final DenialCounters NONE = new DenialCounters(-1, -1);
    /**
     * Counting, in a map that does not exist yet: the programs refer to a placeholder fd (never a
     * real one) that {@link CompiledProgram#withCounters} replaces once the map is made.
     */
    public static final DenialCounters UNBOUND = new DenialCounters(Integer.MAX_VALUE);
    /**
     * The ring buffer's placeholder fd, replaced by {@link CompiledProgram#withMaps}; MAX_VALUE - 1
     * is kept for the device program's own map (branch devmaps, ProgramMap.UNBOUND_FD).
     */
    public static final int EVENTS_UNBOUND = Integer.MAX_VALUE - 2;
    /** Counting and events, both maps still to be bound. */
    public static final DenialCounters UNBOUND_WITH_EVENTS = new DenialCounters(Integer.MAX_VALUE, EVENTS_UNBOUND);

    /** Counting only. */
    public DenialCounters(int mapFd) {
        this(mapFd, -1);
    }

    public boolean enabled() {
        return mapFd >= 0;
    }

    public boolean events() {
        return eventsFd >= 0;
    }

    /**
     * Emits the refusal tail: count {@code reason} (lookup of the slot, atomic add of 1, nothing
     * when the lookup fails) and return 0. Clobbers r0-r5; ctx must not be needed afterwards.
     */
    void emitDeny(Asm a, DenialReason reason, String skipLabel) {
        emitCount(a, reason.key(), skipLabel);
        // return 0;                                         // refuse: EPERM for a syscall, a drop for a packet
        a.movImm(Reg.R0, 0).exit();
    }

    /**
     * The refusal tail with an event first (when this program has events): the record built on
     * the stack and handed to bpf_ringbuf_output, a failed output counted in {@link #EVENTS_LOST};
     * then as {@link #emitDeny(Asm, DenialReason, String)}. The event's object fields are read
     * from the context in r6.
     */
    void emitDeny(Asm a, DenialReason reason, EventSpec event, String skipLabel) {
        if (events()) {
            emitEvent(a, event, skipLabel + "_sent");
        }
        emitDeny(a, reason, skipLabel);
    }

    private void emitCount(Asm a, int slot, String skipLabel) {
        if (enabled()) {
            // r1 = &cgbpf_denials;                          // LD_IMM64 of the map fd
            // r2 = r10 - 4; *(u32 *)(r10 - 4) = SLOT;       // u32 key = SLOT, on the stack
            // r0 = bpf_map_lookup_elem(r1, r2);             // u64 *count
            // if (r0 == NULL) goto skip;                    // (never for a key below SLOTS; the verifier insists)
            // r1 = 1; lock *(u64 *)(r0 + 0) += r1;          // __sync_fetch_and_add(count, 1)
            // skip:
            a.ldMapFd(Reg.R1, mapFd)
                    .mov(Reg.R2, Reg.R10)
                    .add(Reg.R2, -4)
                    .stW(Reg.R10, -4, slot)
                    .call("bpf_map_lookup_elem")
                    .jeq(Reg.R0, 0, skipLabel)
                    .movImm(Reg.R1, 1)
                    .atomicAdd(Size.DW, Reg.R0, 0, Reg.R1)
                    .label(skipLabel);
        }
    }

    private void emitEvent(Asm a, EventSpec event, String sentLabel) {
        int base = EventLayout.STACK_OFF;
        // struct cgbpf_event ev = {0};                      (on the stack at r10 + STACK_OFF; bpf_ringbuf_output reads all of it)
        for (int off = 0; off < EventLayout.SIZE; off += 8) {
            a.stDW(Reg.R10, base + off, 0);
        }
        // ev.cgroup_id = bpf_get_current_cgroup_id();
        a.call("bpf_get_current_cgroup_id").stxDW(Reg.R10, base + EventLayout.CGROUP_ID, Reg.R0);
        // ev.pid_tgid = bpf_get_current_pid_tgid();
        a.call("bpf_get_current_pid_tgid").stxDW(Reg.R10, base + EventLayout.PID_TGID, Reg.R0);
        // bpf_get_current_comm(ev.comm, 16);
        a.mov(Reg.R1, Reg.R10).add(Reg.R1, base + EventLayout.COMM).movImm(Reg.R2, EventLayout.COMM_LEN)
                .call("bpf_get_current_comm");
        // ev.kind = KIND; ev.rule = RULE (an immediate, or r7 where the program chose among rules);
        a.stW(Reg.R10, base + EventLayout.KIND, event.kind().code());
        if (event.ruleInR7()) {
            a.stxW(Reg.R10, base + EventLayout.RULE, Reg.R7);
        } else {
            a.stW(Reg.R10, base + EventLayout.RULE, event.rule());
        }
        event.fields().emit(a, base);
        // if (bpf_ringbuf_output(&cgbpf_events, &ev, sizeof(ev), 0) == 0) goto sent;
        a.ldMapFd(Reg.R1, eventsFd).mov(Reg.R2, Reg.R10).add(Reg.R2, base).movImm(Reg.R3, EventLayout.SIZE)
                .movImm(Reg.R4, 0).call("bpf_ringbuf_output").jeq(Reg.R0, 0, sentLabel);
        // no room: count it in EVENTS_LOST; sent:
        emitCount(a, EVENTS_LOST, sentLabel + "_lost");
        a.label(sentLabel);
    }
}
