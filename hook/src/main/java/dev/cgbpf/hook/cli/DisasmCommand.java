package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Program;
import java.util.HexFormat;
import java.util.List;

/** {@code cgbpf disasm}: instruction bytes in, verifier-log lines out. */
final class DisasmCommand implements Command {

    @Override
    public String name() {
        return "disasm";
    }

    @Override
    public String synopsis() {
        return "[--bare] [--hex HEX | FILE | -]";
    }

    @Override
    public String summary() {
        return "instruction bytes (hex text or raw) to verifier-log lines";
    }

    @Override
    public String help() {
        return """
                Prints each instruction as the kernel's verifier log does: "0: (b7) r0 = 0".
                The input is the program's bytes (8 per instruction slot, the kernel's layout),
                either as hex text (whitespace anywhere is ignored) or raw binary: a FILE (or
                stdin, '-' or no operand) that holds only hex digits and whitespace is read as
                hex text, anything else as raw bytes.

                  --hex HEX   take the bytes from the argument instead of a file
                  --bare      print the assembly form ("r0 = 0"), as scenario files and
                              'cgbpf asm' take it; assembling it gives the same bytes back
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean bare = false;
        String hexArg = null;
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--bare" -> {
                    args.noValue(o);
                    bare = true;
                }
                case "--hex" -> hexArg = args.value(o);
                default -> throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(hexArg == null ? 1 : 0);
        byte[] bytes;
        String source;
        if (hexArg != null) {
            bytes = parseHex(hexArg, "--hex");
            source = "--hex";
        } else {
            InputFile in = InputFile.of(operands.isEmpty() ? null : operands.get(0));
            byte[] raw = in.readBytes(console);
            source = in.label();
            bytes = isHexText(raw) ? parseHex(new String(raw, java.nio.charset.StandardCharsets.US_ASCII), source) : raw;
        }
        Program program;
        try {
            program = Program.decode(bytes);
        } catch (MalformedProgramException e) {
            throw CliException.badInput("disasm: " + source + ": " + e.getMessage());
        }
        Disassembler d = new Disassembler();
        for (String line : bare ? d.bareLines(program) : d.listing(program)) {
            console.out().println(line);
        }
        return 0;
    }

    /** Hex text: at least one digit, and nothing but hex digits and whitespace. */
    static boolean isHexText(byte[] raw) {
        boolean digit = false;
        for (byte b : raw) {
            if (Character.digit(b, 16) >= 0 && b > 0) {
                digit = true;
            } else if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return digit;
    }

    static byte[] parseHex(String text, String source) throws CliException {
        String digits = text.replaceAll("\\s+", "");
        if (!digits.chars().allMatch(c -> c < 128 && Character.digit(c, 16) >= 0)) {
            throw CliException.badInput("disasm: " + source + ": not hex: characters other than 0-9a-f and whitespace");
        }
        if (digits.length() % 2 != 0) {
            throw CliException.badInput("disasm: " + source + ": odd number of hex digits (" + digits.length() + ")");
        }
        return HexFormat.of().parseHex(digits);
    }
}
