package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.isa.HelperIds;

import java.util.Arrays;

/**
 * The helpers one program type may call, indexed by helper id (enum bpf_func_id). An id outside
 * the table faults at the call; the verifier issue will refuse such programs at load instead.
 */
public final class HelperTable {
    private final Helper[] helpers;

    private HelperTable(Helper[] helpers) {
        this.helpers = helpers;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The helper for {@code id}, or a fault naming it as the kernel's disassembler would. */
    public Helper get(int id) {
        Helper h = id >= 0 && id < helpers.length ? helpers[id] : null;
        if (h == null) {
            String name = HelperIds.name(id).map(n -> n + "#" + id).orElse("helper id " + id);
            throw new Fault("call to " + name + " is not supported by the engine for this program type");
        }
        return h;
    }

    public boolean has(int id) {
        return id >= 0 && id < helpers.length && helpers[id] != null;
    }

    /** Collects helpers; later program types add theirs to a copy of a base table. */
    public static final class Builder {
        private Helper[] helpers = new Helper[0];

        public Builder add(int id, Helper helper) {
            if (id >= helpers.length) {
                helpers = Arrays.copyOf(helpers, id + 1);
            }
            helpers[id] = helper;
            return this;
        }

        public Builder addAll(HelperTable table) {
            for (int i = 0; i < table.helpers.length; i++) {
                if (table.helpers[i] != null) {
                    add(i, table.helpers[i]);
                }
            }
            return this;
        }

        public HelperTable build() {
            return new HelperTable(helpers.clone());
        }
    }
}
