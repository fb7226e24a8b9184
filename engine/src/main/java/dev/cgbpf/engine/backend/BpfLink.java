package dev.cgbpf.engine.backend;

/**
 * A bpf_link attaching a program to a cgroup ({@link Backend#linkCreate}). The attachment lasts
 * while the link lives: closing its last fd with no pin left detaches the program (the kernel's
 * bpf_link_release). {@link Backend#linkDetach} detaches it now and leaves the handle defunct.
 */
public interface BpfLink extends BpfObject {
    /** The fd number: a real fd on the kernel, an engine-local number in the engine. */
    int fd();
}
