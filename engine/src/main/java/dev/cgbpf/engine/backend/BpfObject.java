package dev.cgbpf.engine.backend;

/**
 * A program, map or link of a backend as one fd holds it: what BPF_OBJ_PIN takes and BPF_OBJ_GET
 * gives back. Closing it closes that fd only; the object lives on while anything else holds it
 * (another fd, a pin, an attachment, a program using a map), as in the kernel.
 */
public interface BpfObject extends AutoCloseable {
    /** Closes this fd; idempotent. */
    @Override
    void close();
}
