package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Runs generated programs on the engine's interpreter with a chosen context, and a denial
 * counter map in the same address space (the program refers to it by {@link #COUNTER_FD}).
 */
final class EngineRun {
    static final int COUNTER_FD = 7;

    final AddressSpace space = new AddressSpace();
    final EngineMap counters;

    EngineRun() throws BpfException {
        counters = EngineMap.create(DenialCounters.SPEC, space);
    }

    DenialCounters denialCounters() {
        return new DenialCounters(COUNTER_FD);
    }

    Interpreter decode(Program p) {
        return decode(p, null);
    }

    /** Decodes {@code p}, whose own map (referred to by {@link ProgramMap#UNBOUND_FD}) is {@code own}. */
    Interpreter decode(Program p, EngineMap own) {
        return Interpreter.decode(p, (src, imm, next) -> {
            if (src == Opcodes.PSEUDO_MAP_FD && imm == COUNTER_FD) {
                return counters.objectAddress();
            }
            if (src == Opcodes.PSEUDO_MAP_FD && imm == ProgramMap.UNBOUND_FD && own != null) {
                return own.objectAddress();
            }
            throw new Fault("unexpected ld_imm64 src " + src + " imm " + imm);
        });
    }

    /** The program of {@code p} ready to run: its own map (if any) made in this address space and filled. */
    Interpreter decode(CompiledProgram p) throws BpfException {
        if (p.map() == null) {
            return decode(p.program());
        }
        EngineMap m = EngineMap.create(p.map().spec(), space);
        for (ProgramMap.Entry e : p.map().entries()) {
            EngineMap.check(m.updateElem(e.key(), e.value(), 0), "update");
        }
        return decode(p.program(), m);
    }

    long run(Interpreter interp, ProgContext ctx) {
        return interp.run(new Machine(space, BaseHelpers.TABLE, ctx), 1_000_000);
    }

    long count(DenialReason r) {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(r.key()).array();
        int i = counters.lookupIndex(key);
        return ByteBuffer.wrap(counters.valueOf(i)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
