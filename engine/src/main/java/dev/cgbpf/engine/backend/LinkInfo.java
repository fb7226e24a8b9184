package dev.cgbpf.engine.backend;

/**
 * BPF_OBJ_GET_INFO_BY_FD of a cgroup link (struct bpf_link_info, BPF_LINK_TYPE_CGROUP).
 *
 * @param id         the link id
 * @param progId     the id of the program the link runs now
 * @param attachType the attach type it was created with (kept after a detach)
 * @param cgroupId   the id of the cgroup it is attached to ({@link Backend#cgroupId}); 0 once it is
 *                   defunct (detached, or its cgroup removed)
 */
public record LinkInfo(int id, int progId, AttachType attachType, long cgroupId) {
}
