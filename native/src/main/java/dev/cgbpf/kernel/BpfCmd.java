package dev.cgbpf.kernel;

/** The bpf(2) commands this module issues, with their enum bpf_cmd values. */
enum BpfCmd {
    BPF_MAP_CREATE(0),
    BPF_MAP_LOOKUP_ELEM(1),
    BPF_MAP_UPDATE_ELEM(2),
    BPF_MAP_DELETE_ELEM(3),
    BPF_MAP_GET_NEXT_KEY(4),
    BPF_PROG_LOAD(5),
    BPF_OBJ_PIN(6),
    BPF_OBJ_GET(7),
    BPF_PROG_ATTACH(8),
    BPF_PROG_DETACH(9),
    BPF_PROG_TEST_RUN(10),
    BPF_PROG_GET_NEXT_ID(11),
    BPF_MAP_GET_NEXT_ID(12),
    BPF_PROG_GET_FD_BY_ID(13),
    BPF_MAP_GET_FD_BY_ID(14),
    BPF_OBJ_GET_INFO_BY_FD(15),
    BPF_PROG_QUERY(16),
    BPF_MAP_LOOKUP_AND_DELETE_ELEM(21),
    BPF_MAP_FREEZE(22),
    BPF_MAP_UPDATE_BATCH(26),
    BPF_LINK_CREATE(28),
    BPF_LINK_UPDATE(29),
    BPF_LINK_DETACH(34);

    private final int value;

    BpfCmd(int value) {
        this.value = value;
    }

    int value() {
        return value;
    }
}
