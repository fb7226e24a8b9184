package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import org.junit.jupiter.api.Test;

/**
 * Dynptr stack slots on the parts of the log the differential corpus compares only on a host with
 * a kernel: the lines before a reason, and how the state shows a dynptr and a slice. The expected
 * texts are what Linux 6.18 printed for the same programs of dynptr.txt.
 */
class DynptrVerifierTest {
    private static final CorpusFile CORPUS = new CorpusFile("dynptr.txt");

    @Test
    void aRingBufferDynptrIsAReferenceEvenWhenTheReservationFailed() {
        BpfException e = CORPUS.refused("ringbuf_dynptr_released_only_on_success");
        assertEquals("EINVAL", e.errno());
        // the dynptr takes id 1, its reference id 2
        assertTrue(e.verifierLog().contains("Unreleased reference id=2 alloc_insn=6\n"
                + "BPF_EXIT instruction in main prog would lead to reference leak\n"), e.verifierLog());
    }

    @Test
    void aDynptrAtABadOffsetIsNamedBeforeTheReason() {
        BpfException e = CORPUS.refused("dynptr_misaligned");
        assertEquals("EINVAL", e.errno());
        assertTrue(e.verifierLog().contains("cannot pass in dynptr at an offset=-20\n"
                + "Dynptr has to be an uninitialized dynptr\n"), e.verifierLog());
        assertTrue(CORPUS.refused("dynptr_at_fp8").verifierLog().contains("cannot pass in dynptr at an offset=-8\n"));
    }

    @Test
    void theStateShowsADynptrOnceAndItsSliceAsMemOrNull() throws BpfException {
        String local = CORPUS.acceptedLog("dynptr_from_mem_read_write_data");
        // shown by the call that makes it and by every call that uses it
        assertTrue(local.contains("; R0=scalar() fp-24=dynptr_local(id=1,dynptr_id=1)\n"), local);
        assertTrue(local.contains("; R0=mem_or_null(id=2,sz=8) fp-24=dynptr_local(id=1,dynptr_id=1)\n"), local);
        String ring = CORPUS.acceptedLog("ringbuf_dynptr_slice_submit");
        assertTrue(ring.contains("R0=mem_or_null(id=3,ref_obj_id=2,sz=16) fp-24=dynptr_ringbuf(id=1,ref_id=2,dynptr_id=1) refs=2\n"),
                ring);
    }

    @Test
    void aStoreIntoALocalDynptrEndsItsSlices() {
        BpfException e = CORPUS.refused("dynptr_data_after_overwrite");
        assertEquals("EACCES", e.errno());
        assertEquals("R7 invalid mem access 'scalar'", e.logReason());
        assertEquals("cannot overwrite referenced dynptr", CORPUS.refused("ringbuf_dynptr_overwritten").logReason());
    }
}
