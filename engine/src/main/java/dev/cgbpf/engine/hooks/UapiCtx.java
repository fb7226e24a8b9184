package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Packet;
import dev.cgbpf.engine.interp.ProgContext;

/**
 * A hook context kept as a little-endian image of its uapi struct, with the access rule of the
 * kernel's {@code is_valid_access} for it written out per context ({@link #allowed}). The kernel's
 * verifier checks the rule at load; the engine checks it again on every access, and a refused
 * access faults with the verifier's words, {@code invalid bpf_context access off=N size=M}.
 */
abstract class UapiCtx implements ProgContext {
    protected final byte[] image;

    protected UapiCtx(int size) {
        this.image = new byte[size];
    }

    @Override
    public int size() {
        return image.length;
    }

    /** The is_valid_access rule, before any field-specific handling. */
    protected abstract boolean allowed(int off, int size, boolean write);

    @Override
    public long load(int off, int size) {
        check(off, size, false);
        return read(off, size);
    }

    @Override
    public void store(int off, int size, long value) {
        check(off, size, true);
        write(off, size, value);
    }

    /** A checked read; contexts with pointer fields override it for those. */
    protected long read(int off, int size) {
        return get(off, size);
    }

    /** A checked write; contexts whose fields are narrower than the access override it. */
    protected void write(int off, int size, long value) {
        put(off, size, value);
    }

    @Override
    public final byte[] image() {
        return image;
    }

    /**
     * The {@link ProgContext#directReads} table of this context's rule, for a subclass whose
     * {@link #allowed} depends on its class alone (it computes this once and keeps it): every
     * read {@link #load} allows, except at the offsets {@code computed} where its {@link #read}
     * does not return the image's bytes.
     */
    protected final byte[] directReadTable(int... computed) {
        byte[] t = new byte[image.length];
        for (int off = 0; off < image.length; off++) {
            for (int bit = 0; bit < 4; bit++) {
                int size = 1 << bit;
                boolean plain = off % size == 0 && off + size <= image.length && allowed(off, size, false);
                for (int c : computed) {
                    plain &= off != c;
                }
                if (plain) {
                    t[off] |= (byte) (1 << bit);
                }
            }
        }
        return t;
    }

    private void check(int off, int size, boolean write) {
        if (off < 0 || off >= image.length || off % size != 0 || !allowed(off, size, write)) {
            throw new Fault("invalid bpf_context access off=" + off + " size=" + size);
        }
    }

    @Override
    public Packet packet() {
        return null;
    }

    protected final void put(int off, int size, long value) {
        for (int i = 0; i < size; i++) {
            image[off + i] = (byte) (value >>> (8 * i));
        }
    }

    protected final long get(int off, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (image[off + i] & 0xff);
        }
        return v;
    }

    /** Bytes kept in memory order (addresses and ports in network order). */
    protected final void putBytes(int off, byte[] bytes) {
        System.arraycopy(bytes, 0, image, off, bytes.length);
    }

    /**
     * The socket fields that {@code struct __sk_buff} and {@code struct bpf_sock_ops} lay out alike
     * from their {@code family} on: family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4],
     * remote_port, local_port. Values as convert_ctx_access reads them: local_ip4/remote_ip4 from
     * skc_rcv_saddr/skc_daddr (a v6 socket's may read 127.0.0.6), the *_ip6 fields from the v6
     * copies (v4-mapped for an IPv4 socket), local_port in host order, remote_port in network
     * order in the UPPER 16 bits (the kernel shifts skc_dport left by 16 on little-endian machines).
     */
    protected final void putSockFields(int family, InetSock sock) {
        put(family, 4, sock.family());
        putBytes(family + 4, sock.skcDaddr());
        putBytes(family + 8, sock.skcRcvSaddr());
        putBytes(family + 12, sock.skcV6Daddr());
        putBytes(family + 28, sock.skcV6RcvSaddr());
        put(family + 44, 4, (Short.reverseBytes((short) sock.dport) & 0xffffL) << 16);
        put(family + 48, 4, sock.num);
    }

    /**
     * The socket's {@link TcpSock#counters()} at {@code offsets} (-1: a field this struct lacks),
     * each a u32 but bytes_acked, a u64.
     */
    protected final void putCounters(int[] offsets, TcpSock tcp) {
        long[] c = tcp.counters();
        for (int i = 0; i < c.length; i++) {
            if (offsets[i] >= 0) {
                put(offsets[i], i == TcpSock.BYTES_ACKED ? 8 : 4, c[i]);
            }
        }
    }

    protected final byte[] getBytes(int off, int len) {
        byte[] out = new byte[len];
        System.arraycopy(image, off, out, 0, len);
        return out;
    }

    /** Whether [off, off+size) lies inside [from, to). */
    static boolean within(int off, int size, int from, int to) {
        return off >= from && off + size <= to;
    }

    /** bpf_ctx_narrow_access_ok against a 4-byte field: 1, 2 or 4 bytes (alignment already checked). */
    static boolean narrow(int size) {
        return size <= 4;
    }

    /** bpf_ctx_wide_access_ok: an 8-byte, 8-aligned access inside the array field [from, to). */
    static boolean wide(int off, int size, int from, int to) {
        return size == 8 && off >= from && off + 8 <= to && off % 8 == 0;
    }
}
