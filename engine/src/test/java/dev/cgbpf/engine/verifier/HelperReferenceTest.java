package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.Test;

/**
 * Reference tracking and the helper prototypes, on the parts of the log the differential corpus
 * does not compare (it compares errno and the last line): every unreleased reference named with
 * its allocating instruction, the lines before a reason, and the ranges R0 gets. The expected
 * texts are what Linux 6.18 printed for the same programs of helper-protos.txt.
 */
class HelperReferenceTest {
    private static final CorpusFile CORPUS = new CorpusFile("helper-protos.txt");

    @Test
    void everyUnreleasedReferenceIsNamedWithItsAllocatingInstruction() {
        BpfException e = CORPUS.refused("sk_lookup_two_leaks");
        assertEquals("EINVAL", e.errno());
        // ids come from the generator maybe-null pointers use: each acquire takes two (2, then 4)
        assertTrue(e.verifierLog().contains("Unreleased reference id=2 alloc_insn=9\n"
                + "Unreleased reference id=4 alloc_insn=16\n"
                + "BPF_EXIT instruction in main prog would lead to reference leak\n"), e.verifierLog());
    }

    @Test
    void theNullBranchOfAnAcquiredPointerHoldsNoReference() throws BpfException {
        CORPUS.acceptedLog("sk_lookup_tcp_null_path_needs_no_release");
        CORPUS.acceptedLog("ringbuf_two_records");
        BpfException e = CORPUS.refused("ringbuf_two_records_leak_second");
        assertTrue(e.verifierLog().contains("Unreleased reference id=4 alloc_insn="), e.verifierLog());
    }

    @Test
    void aCastSharesItsSocketsReferenceAndAListenerDoesNot() throws BpfException {
        assertEquals("R7 invalid mem access 'scalar'", CORPUS.refused("fullsock_of_lookup_released_via_original").logReason());
        CORPUS.acceptedLog("fullsock_of_lookup_release_cast");
        CORPUS.acceptedLog("listener_outlives_release");
        assertEquals("R1 must be referenced when passed to release function", CORPUS.refused("listener_release").logReason());
    }

    @Test
    void releaseTurnsEveryCopyIntoAScalarIncludingSpills() {
        assertEquals("R6 invalid mem access 'scalar'", CORPUS.refused("sk_use_after_release").logReason());
        assertEquals("R1 invalid mem access 'scalar'", CORPUS.refused("sk_spilled_copy_invalid_after_release").logReason());
        assertEquals("R1 type=scalar expected=ringbuf_mem", CORPUS.refused("ringbuf_submit_twice").logReason());
    }

    @Test
    void ringBufferRecordsAreBoundedByTheReservedSize() throws BpfException {
        BpfException e = CORPUS.refused("ringbuf_reserve_write_past_end");
        assertTrue(e.verifierLog().contains("invalid access to memory, mem_size=12 off=8 size=8\n"
                + "R0 min value is outside of the allowed memory range\n"), e.verifierLog());
        assertEquals("R2 is not a known constant'", CORPUS.refused("ringbuf_reserve_var_size").logReason());
        String log = CORPUS.acceptedLog("ringbuf_reserve_arith_access");
        assertTrue(log.contains("ringbuf_mem"), log);
    }

    @Test
    void stringProbesReturnAnErrnoOrAtMostTheBufferSize() throws BpfException {
        String log = CORPUS.acceptedLog("probe_read_kernel_str_ret_index");
        assertTrue(log.contains("call bpf_probe_read_kernel_str#115")
                && log.contains("R0=scalar(smin=smin32=-4095,smax=smax32=16)"), log);
        assertEquals("At program exit the register R0 has smin=-4095 smax=7 should have been in [0, 1]",
                CORPUS.refused("probe_read_kernel_str_var_size_ret").logReason());
        // the plain probe's result is any number: as an index it is unbounded
        assertEquals("invalid unbounded variable-offset read from stack R1",
                CORPUS.refused("probe_read_kernel_ret_not_refined").logReason());
    }

    @Test
    void helpersNeedingMapsTheEngineCannotMakeAreAlwaysRefused() {
        // the kernel prints this reason without a newline: the statistics run on in the same line
        assertEquals("expected prog array map for tail callprocessed 3 insns (limit 1000000) max_states_per_insn 0"
                + " total_states 0 peak_states 0 mark_read 0", CORPUS.refused("tail_call_array_map").logReason());
        assertEquals("R3 does not point to a readonly map'", CORPUS.refused("strncmp_writable_map").logReason());
        assertEquals("cannot pass map_type 1 into func bpf_perf_event_output#25",
                CORPUS.refused("perf_event_output_hash_map").logReason());
    }

    @Test
    void packetMemoryGoesOnlyToHelpersDeclaredForIt() throws BpfException {
        CORPUS.acceptedLog("sk_lookup_tuple_in_packet");
        assertEquals("helper access to the packet is not allowed", CORPUS.refused("pkt_load_bytes_dst_not_allowed").logReason());
        assertEquals("helper access to the packet is not allowed",
                CORPUS.refused("trace_printk_fmt_sock_ops_packet").logReason());
    }

    @Test
    void aHelperNeedingBtfIsStillRefusedByName() {
        // bpf_sk_storage_get takes an sk_storage map, which needs BTF: its first argument is
        // checked as the kernel does, then the engine gives up
        Program p = new Assembler(CorpusFile::fd).assemble("r1 = map[hash]\nr2 = 0\nr3 = 0\nr4 = 0\n"
                + "call bpf_sk_storage_get#107\nr0 = 1\nexit");
        BpfException e = assertThrows(BpfException.class,
                () -> Verifier.verify(p, ProgType.CGROUP_SKB, null, CorpusFile::spec, 1));
        assertEquals("EINVAL", e.errno());
        assertEquals("engine: helper bpf_sk_storage_get#107 is not modelled by the engine verifier", e.logReason());
    }
}
