package dev.cgbpf.engine.interp;

import java.util.List;

/**
 * The field table of one context struct and the access rule the kernel's {@code is_valid_access}
 * applies to it: the offset aligned to the access size, the access inside one field, writes only
 * where allowed and at the field's size, reads as the field's {@link CtxField.Read} says. A
 * rejected access faults with the verifier's own words,
 * {@code invalid bpf_context access off=72 size=4}.
 */
public final class CtxLayout {
    private final int size;
    private final CtxField[] byOffset;

    public CtxLayout(int size, List<CtxField> fields) {
        this.size = size;
        this.byOffset = new CtxField[size];
        for (CtxField f : fields) {
            for (int i = f.offset(); i < f.end(); i++) {
                if (byOffset[i] != null) {
                    throw new IllegalArgumentException("fields " + byOffset[i].name() + " and " + f.name() + " overlap");
                }
                byOffset[i] = f;
            }
        }
    }

    public int size() {
        return size;
    }

    /** The field an allowed access touches; faults like the verifier otherwise. */
    public CtxField check(int offset, int accessSize, boolean write) {
        CtxField f = offset >= 0 && offset < size && offset % accessSize == 0 ? byOffset[offset] : null;
        if (f == null || offset + accessSize > f.end() || !allowed(f, offset, accessSize, write)) {
            throw new Fault("invalid bpf_context access off=" + offset + " size=" + accessSize);
        }
        return f;
    }

    private static boolean allowed(CtxField f, int offset, int accessSize, boolean write) {
        if (write) {
            return f.write() && (f.read() == CtxField.Read.ANY || (offset == f.offset() && accessSize == f.size()));
        }
        return switch (f.read()) {
            case NONE -> false;
            case FULL -> offset == f.offset() && accessSize == f.size();
            case NARROW -> accessSize <= f.size();
            case ANY -> true;
        };
    }
}
