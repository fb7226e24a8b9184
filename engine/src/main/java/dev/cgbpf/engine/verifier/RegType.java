package dev.cgbpf.engine.verifier;

/**
 * The kernel's enum bpf_reg_type, as far as the program types of this project meet them; the
 * names are what the verifier log prints (reg_type_str).
 */
public enum RegType {
    NOT_INIT("?"),
    SCALAR("scalar"),
    PTR_TO_CTX("ctx"),
    CONST_PTR_TO_MAP("map_ptr"),
    PTR_TO_MAP_VALUE("map_value"),
    PTR_TO_STACK("fp"),
    PTR_TO_PACKET("pkt"),
    PTR_TO_PACKET_META("pkt_meta"),
    PTR_TO_PACKET_END("pkt_end"),
    PTR_TO_SOCKET("sock"),
    PTR_TO_SOCK_COMMON("sock_common"),
    PTR_TO_TCP_SOCK("tcp_sock"),
    /**
     * PTR_TO_MEM | MEM_RINGBUF: a record bpf_ringbuf_reserve handed out. Its size (the kernel's
     * mem_size) is kept in {@link RegState#range}, the field it shares a union with in the kernel.
     */
    PTR_TO_RINGBUF_MEM("ringbuf_mem"),
    /** A pointer the engine does not model (helper results such as btf ids): only passed on. */
    PTR_TO_OTHER("ptr_");

    private final String logName;

    RegType(String logName) {
        this.logName = logName;
    }

    public String logName() {
        return logName;
    }

    public boolean isPointer() {
        return this != NOT_INIT && this != SCALAR;
    }

    public boolean isPacket() {
        return this == PTR_TO_PACKET || this == PTR_TO_PACKET_META;
    }

    public boolean isSocket() {
        return this == PTR_TO_SOCKET || this == PTR_TO_SOCK_COMMON || this == PTR_TO_TCP_SOCK;
    }
}
