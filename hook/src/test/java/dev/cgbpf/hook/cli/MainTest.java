package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: dispatch, exit status, and one-line errors for user mistakes. */
class MainTest {
    static final String PROG = "r6 = r1\nr0 = *(u32 *)(r6 +0)\nif r0 > 0x5 goto pc+1\nr0 = 0\nexit\n";
    static final String HEX = "bf16000000000000" + "6160000000000000" + "2500010005000000" + "b700000000000000"
            + "9500000000000000";

    /** A user mistake ends with one line "cgbpf: ..." on stderr and no stack trace. */
    static void assertOneLineError(CliRun r, int status, String reason) {
        assertEquals(status, r.status(), r.toString());
        assertEquals("cgbpf: " + reason + "\n", r.err(), r.toString());
    }

    @Test
    void asmPrintsTheBytesAsOneHexLine() {
        CliRun r = CliRun.of(PROG, "asm");
        assertEquals(0, r.status(), r.err());
        assertEquals(HEX + "\n", r.out());
    }

    @Test
    void asmTakesMapFds() {
        CliRun r = CliRun.of("r1 = map[counters]\nr0 = 0\nexit\n", "asm", "--map", "counters=7");
        assertEquals("1811000007000000" + "0000000000000000" + "b700000000000000" + "9500000000000000" + "\n", r.out(), r.err());
        assertOneLineError(CliRun.of("", "asm", "--map", "counters"), 2, "asm: --map takes NAME=FD, not 'counters'");
        assertOneLineError(CliRun.of("", "asm", "--map=a=x"), 2, "asm: --map a=x: FD must be a number");
    }

    @Test
    void optionsMayFollowOperands(@TempDir Path dir) throws IOException {
        Path prog = dir.resolve("p.s");
        Files.writeString(prog, PROG);
        CliRun r = CliRun.of("", "asm", prog.toString(), "--map", "counters=7");
        assertEquals(0, r.status(), r.err());
        assertEquals(HEX + "\n", r.out());
        assertEquals("4: (95) exit", CliRun.of("", "disasm", "--hex", HEX).out().lines().toList().get(4));
        // "--" ends the options: what follows is an operand even when it starts with a dash
        assertOneLineError(CliRun.of("", "asm", "--", "--map"), 2, "--map: no such file");
    }

    @Test
    void asmErrorsNameLineAndColumn() {
        CliRun r = CliRun.of("r0 = 1\nr0 ++ 1\nexit\n", "asm");
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("cgbpf: asm: <stdin>: line 2 col "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void disasmReadsHexArgumentsHexFilesAndRawFiles(@TempDir Path dir) throws IOException {
        List<String> listing = List.of("0: (bf) r6 = r1", "1: (61) r0 = *(u32 *)(r6 +0)", "2: (25) if r0 > 0x5 goto pc+1",
                "3: (b7) r0 = 0", "4: (95) exit");
        assertEquals(listing, CliRun.of("", "disasm", "--hex", HEX).out().lines().toList());
        // whitespace anywhere in hex text
        String spaced = HEX.replaceAll("(.{4})", "$1 ").replaceAll("(.{20})", "$1\n");
        Path hexFile = Files.writeString(dir.resolve("p.hex"), spaced);
        assertEquals(listing, CliRun.of("", "disasm", hexFile.toString()).out().lines().toList());
        Path raw = Files.write(dir.resolve("p.bin"), HexFormat.of().parseHex(HEX));
        assertEquals(listing, CliRun.of("", "disasm", raw.toString()).out().lines().toList());
        assertEquals(listing, CliRun.of(HexFormat.of().parseHex(HEX), "disasm", "-").out().lines().toList());
    }

    @Test
    void disasmBareIsWhatAsmReadsBack() {
        CliRun bare = CliRun.of("", "disasm", "--bare", "--hex", HEX);
        assertEquals(PROG, bare.out());
        assertEquals(HEX + "\n", CliRun.of(bare.out(), "asm").out());
    }

    @Test
    void disasmRejectsBadInputInOneLine() {
        assertOneLineError(CliRun.of("", "disasm", "--hex", "b7000"), 1, "disasm: --hex: odd number of hex digits (5)");
        assertOneLineError(CliRun.of("", "disasm", "--hex", "b700000000000000b7"), 1,
                "disasm: --hex: insn 1: program length 9 is not a multiple of 8 bytes");
        CliRun r = CliRun.of("", "disasm", "--hex", "ff00000000000000");
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("cgbpf: disasm: --hex: insn 0: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void scriptRunsAFileAndSetsTheExitStatus(@TempDir Path dir) throws IOException {
        Path ok = Files.writeString(dir.resolve("ok.jsonl"),
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"hash\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}\n"
                        + "{\"op\":\"lookup\",\"map\":\"m\",\"key\":\"00000000\"}\n");
        CliRun r = CliRun.of("", "script", "--backend", "engine", ok.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("{\"op\":\"map\",\"ok\":true}\n{\"op\":\"lookup\",\"errno\":\"ENOENT\"}\n", r.out());
        assertEquals("", r.err());
        CliRun bad = CliRun.of("{\"op\":\"mkdir\",\"path\":\"../a\"}\n", "script", "--backend=engine", "-");
        assertEquals(1, bad.status());
        assertEquals("{\"line\":1,\"error\":\"path '../a' uses '..'; it may not leave the scenario root\"}\n", bad.out());
    }

    /** --engine-jit: every mode gives the same output for a scenario that runs a program. */
    @Test
    void scriptEngineJitModes(@TempDir Path dir) throws IOException {
        Path s = Files.writeString(dir.resolve("run.jsonl"),
                "{\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[\"r0 = *(u32 *)(r1 + 0)\",\"r0 *= 3\",\"exit\"]}\n"
                        + "{\"op\":\"run\",\"prog\":\"p\",\"repeat\":3000,\"ctx\":{\"data\":\"ffffffffffff0200000000010800450000200001"
                        + "000040117cc87f0000017f000001d4310035000c0000deadbeef\"}}\n");
        CliRun off = CliRun.of("", "script", "--backend", "engine", "--engine-jit", "off", s.toString());
        assertEquals(0, off.status(), off.err() + off.out());
        assertTrue(off.out().contains("\"retval\":96"), off.out());
        for (String mode : new String[] {"on", "auto"}) {
            CliRun r = CliRun.of("", "script", "--backend", "engine", "--engine-jit", mode, s.toString());
            assertEquals(0, r.status(), r.err());
            assertEquals(off.out(), r.out(), mode);
        }
        assertOneLineError(CliRun.of("", "script", "--backend", "engine", "--engine-jit", "fast", s.toString()), 2,
                "script: engine JIT mode must be off, on or auto, not 'fast'");
        assertOneLineError(CliRun.of("", "script", "--backend", "kernel", "--engine-jit", "on", s.toString()), 2,
                "script: --engine-jit is an option of --backend engine");
    }

    @Test
    void updateMistakesAreOneLine() {
        assertOneLineError(CliRun.of("", "update"), 2, "update: which container? cgbpf update ID --devices RULES");
        assertOneLineError(CliRun.of("", "update", "c1"), 2, "update: nothing to change; give --devices RULES");
        assertOneLineError(CliRun.of("", "update", "c1", "--devices", " ; "), 1,
                "update: --devices: no rules (give at least one, e.g. 'allow c 10:200 rwm')");
        assertOneLineError(CliRun.of("", "update", "c1", "--pids", "3"), 2,
                "update: unknown option --pids (see 'cgbpf help update')");
    }

    @Test
    void scriptUsageErrors(@TempDir Path dir) {
        assertOneLineError(CliRun.of("", "script", "x.jsonl"), 2, "script: --backend engine|kernel is required");
        assertOneLineError(CliRun.of("", "script", "--backend", "qemu", "x"), 2, "unknown backend 'qemu' (engine or kernel)");
        assertOneLineError(CliRun.of("", "script", "--backend", "engine"), 2,
                "script: which scenario file? (give FILE, or - for stdin)");
        assertOneLineError(CliRun.of("", "script", "--backend", "engine", dir.resolve("none.jsonl").toString()), 2,
                dir.resolve("none.jsonl") + ": no such file");
        assertOneLineError(CliRun.of(new byte[] {(byte) 0xff, '\n'}, "script", "--backend", "engine", "-"), 1,
                "<stdin>: not UTF-8 text");
        assertOneLineError(CliRun.of("", "script", "--backend"), 2, "script: option --backend needs a value");
        assertOneLineError(CliRun.of("", "script", "--verbose"), 2, "script: unknown option --verbose (see 'cgbpf help script')");
        assertOneLineError(CliRun.of("", "script", "--backend", "engine", "a", "b"), 2, "script: unexpected argument 'b'");
    }

    @Test
    void anUnavailableBackendPrintsNothingOnStdoutAndExits2() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Console c = new Console(new java.io.ByteArrayInputStream(
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"hash\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}\n"
                        .getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        ScriptCommand cmd = new ScriptCommand(b -> b == BackendChoice.KERNEL ? Optional.of("no CAP_BPF") : Optional.empty());
        CliException e = assertThrows(CliException.class,
                () -> cmd.run(new Args("script", List.of("--backend", "kernel", "-")), c));
        assertEquals(2, e.exitStatus());
        assertEquals("kernel backend unavailable: no CAP_BPF", e.getMessage());
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void dispatcher() {
        CliRun none = CliRun.of("");
        assertEquals(2, none.status());
        assertTrue(none.out().contains("usage: cgbpf <command>"), none.out());
        CliRun help = CliRun.of("", "help");
        assertEquals(0, help.status());
        for (String c : List.of("asm", "disasm", "script", "bench", "help")) {
            assertTrue(help.out().contains("\n  " + c + " "), c + " missing from help: " + help.out());
        }
        CliRun helpScript = CliRun.of("", "help", "script");
        assertTrue(helpScript.out().startsWith("usage: cgbpf script --backend engine|kernel [--engine-jit off|on|auto] FILE|-\n"),
                helpScript.out());
        assertEquals(helpScript.out(), CliRun.of("", "script", "--help").out());
        CliRun version = CliRun.of("", "--version");
        assertEquals(0, version.status());
        assertTrue(version.out().matches("cgbpf \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n"), version.out());
        assertOneLineError(CliRun.of("", "frob"), 2, "unknown command 'frob' (try 'cgbpf help')");
        assertOneLineError(CliRun.of("", "help", "frob"), 2, "help: unknown command 'frob'");
        // the benchmarks left the product jar: one line says where they went
        assertOneLineError(CliRun.of("", "bench", "interp", "--quick"), 2, "bench: moved to the developer tools: "
                + "cgbpf-tools bench interp|hook (java -jar tools/target/cgbpf-tools.jar bench ...)");
        assertOneLineError(CliRun.of("", "disasm", "--bare=yes"), 2, "disasm: option --bare takes no value");
    }
}
