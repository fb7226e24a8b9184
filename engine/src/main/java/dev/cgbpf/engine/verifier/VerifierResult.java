package dev.cgbpf.engine.verifier;

/**
 * A program the verifier accepted.
 *
 * @param log the verifier log at the requested level ("" at level 0)
 * @param processedInsns instructions the analysis walked, over all paths (the log's "processed N insns")
 * @param enforcesExpectedAttach the kernel's prog->enforce_expected_attach_type: a cgroup_skb egress
 *        program whose R0 may be 2 or 3 (congestion notification) may only be attached as egress
 * @param usesDirectPacketAccess the program reads the packet through data/data_end pointers
 */
public record VerifierResult(String log, long processedInsns, boolean enforcesExpectedAttach,
                             boolean usesDirectPacketAccess) {
}
