package dev.cgbpf.engine.verifier;

/**
 * struct bpf_tcp_sock, what bpf_tcp_sock() points to: 28 counters of four bytes but two of eight
 * (bytes_received at 80, bytes_acked at 88), ending with icsk_retransmits at 108. Read-only. The
 * engine's hooks check the same rule on every access.
 */
public final class BpfTcpSock {
    static final int BYTES_RECEIVED = 80, BYTES_ACKED = 88;
    /** sizeof(struct bpf_tcp_sock). */
    public static final int END = 112;

    private BpfTcpSock() {
    }

    /** bpf_tcp_sock_is_valid_access: whole, naturally aligned fields only. */
    public static boolean isValidAccess(int off, int size) {
        if (off < 0 || off >= END || off % size != 0) {
            return false;
        }
        if (off == BYTES_RECEIVED || off == BYTES_ACKED) {
            return size == 8;
        }
        return size == 4;
    }
}
