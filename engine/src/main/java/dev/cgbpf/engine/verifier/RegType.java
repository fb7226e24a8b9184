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
    /**
     * PTR_TO_MEM: a slice of a dynptr's memory (bpf_dynptr_data), its size in
     * {@link RegState#range} as for {@link #PTR_TO_RINGBUF_MEM}.
     */
    PTR_TO_MEM("mem"),
    /**
     * PTR_TO_BTF_ID | PTR_TRUSTED: a kernel object typed by BTF. The only one the engine hands
     * out is bpf_get_current_task_btf's task_struct (the log shows {@code trusted_ptr_task_struct()});
     * reading its fields needs the kernel's BTF, which the engine does not have.
     */
    PTR_TO_BTF_ID("trusted_ptr_");

    /** The BTF type name of every {@link #PTR_TO_BTF_ID} the engine knows. */
    static final String BTF_TASK_STRUCT = "task_struct";

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
