package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.isa.Assembler;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code cgbpf asm}: assembly lines in, the program's bytes as one line of hex out. */
final class AsmCommand implements Command {

    @Override
    public String name() {
        return "asm";
    }

    @Override
    public String synopsis() {
        return "[--map NAME=FD]... [FILE | -]";
    }

    @Override
    public String summary() {
        return "assembly (verifier-log syntax) to instruction bytes as hex";
    }

    @Override
    public String help() {
        return """
                Reads one instruction per line in the syntax of the verifier log, e.g.
                "r0 = *(u32 *)(r1 +0)", "if r0 > 0x5 goto pc+1", "call bpf_map_lookup_elem#1",
                "exit" (a pasted "N: (xx) " prefix is ignored; "// ..." and "; ..." are comments;
                "label:" defines a jump target), and prints the program's bytes, 8 per slot in
                the kernel's layout, as one line of hex. 'cgbpf disasm' does the reverse.

                  --map NAME=FD   let "rN = map[NAME]" load the map with that fd (repeatable)
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        Map<String, Integer> maps = new HashMap<>();
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--map")) {
                addMap(maps, args.value(o));
            } else {
                throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(1);
        InputFile in = InputFile.of(operands.isEmpty() ? null : operands.get(0));
        String text = in.readText(console);
        try {
            console.out().println(new Assembler(maps::get).assemble(text).toHex());
        } catch (IllegalArgumentException e) {
            // AsmSyntaxException ("line L col C: ...") or an encoding rule the program breaks
            throw CliException.badInput("asm: " + in.label() + ": " + e.getMessage());
        }
        return 0;
    }

    private static void addMap(Map<String, Integer> maps, String spec) throws CliException {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
            throw CliException.usage("asm: --map takes NAME=FD, not '" + spec + "'");
        }
        String name = spec.substring(0, eq);
        int fd;
        try {
            fd = Integer.parseInt(spec.substring(eq + 1));
        } catch (NumberFormatException e) {
            throw CliException.usage("asm: --map " + spec + ": FD must be a number");
        }
        if (fd < 0) {
            throw CliException.usage("asm: --map " + spec + ": FD must not be negative");
        }
        if (maps.putIfAbsent(name, fd) != null) {
            throw CliException.usage("asm: --map " + name + " given twice");
        }
    }
}
