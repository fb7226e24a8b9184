package dev.cgbpf.engine.hooks;

/**
 * The context of a lirc_mode2 program: one u32 sample of a remote-control receiver (pulse, space,
 * frequency or timeout in the upper byte, the duration in microseconds in the lower 24 bits).
 * lirc_mode2_is_valid_access: a 4-byte read at offset 0, nothing else.
 */
final class LircMode2Ctx extends UapiCtx {
    LircMode2Ctx(int sample) {
        super(4);
        put(0, 4, sample & 0xffffffffL);
    }

    /** The rule depends on the class alone: computed from the first context, shared by all. */
    private static volatile byte[] directReads;

    @Override
    public byte[] directReads() {
        byte[] d = directReads;
        if (d == null) {
            d = directReadTable();
            directReads = d;
        }
        return d;
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        return !write && off == 0 && size == 4;
    }
}
