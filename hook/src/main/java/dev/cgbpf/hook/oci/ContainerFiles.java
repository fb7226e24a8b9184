package dev.cgbpf.hook.oci;

import java.nio.file.Path;

/**
 * What the hook keeps for one container, keyed by its cgroup: the record
 * {@code <runDir>/<cgroup id>/state.json} and the pins in {@code <pinDir>/<cgroup id>/}: one per
 * program (named as the program, e.g. {@code cgbpf_dev}), one per link ({@code cgbpf_dev_link})
 * and the denial counter map ({@code cgbpf_denials}). Directories 0700, files 0600.
 *
 * <p>Why the cgroup and not the container id: ids are unique only per runtime state root
 * (runc --root, a containerd namespace, podman's store), so two live containers can share one;
 * a cgroup holds one container at a time, and its id (the cgroup v2 directory's inode number,
 * what bpf_get_current_cgroup_id returns) is never reused while the host runs. poststop, which
 * knows only the container id and bundle, finds its records by reading them ({@link RunDir}).
 *
 * @param key the directory name: the cgroup id in decimal
 */
public record ContainerFiles(String key, Path recordDir, Path pinDir) {
    public static final String RECORD = "state.json";
    public static final String COUNTERS = "cgbpf_denials";
    public static final String EVENTS = "cgbpf_events";
    /** bpffs refuses names with a '.' (bpf_lookup: EPERM), so the link pins get an underscore suffix. */
    public static final String LINK_SUFFIX = "_link";

    public Path record() {
        return recordDir.resolve(RECORD);
    }

    /**
     * The host's one denial event ring buffer, next to the containers' pin directories:
     * {@code <pin root>/cgbpf_events} (a name that is no cgroup id, so no container's).
     */
    public Path events() {
        return pinDir.resolveSibling(EVENTS);
    }

    public Path counters() {
        return pinDir.resolve(COUNTERS);
    }

    public Path progPin(String progName) {
        return pinDir.resolve(progName);
    }

    public Path linkPin(String progName) {
        return pinDir.resolve(progName + LINK_SUFFIX);
    }
}
