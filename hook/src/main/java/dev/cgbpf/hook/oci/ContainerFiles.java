package dev.cgbpf.hook.oci;

import java.nio.file.Path;

/**
 * What the hook keeps for one container, by container id, so that poststop (which gets no pid
 * and runs after the runtime removed the cgroup) finds it: the record
 * {@code <runDir>/<id>/state.json} and the pins in {@code <pinDir>/<id>/}: one per program (named
 * as the program, e.g. {@code cgbpf_dev}), one per link ({@code cgbpf_dev_link}) and the denial
 * counter map ({@code cgbpf_denials}). Directories 0700, files 0600.
 */
public record ContainerFiles(String id, Path recordDir, Path pinDir) {
    public static final String RECORD = "state.json";
    public static final String COUNTERS = "cgbpf_denials";
    /** bpffs refuses names with a '.' (bpf_lookup: EPERM), so the link pins get an underscore suffix. */
    public static final String LINK_SUFFIX = "_link";

    public Path record() {
        return recordDir.resolve(RECORD);
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
