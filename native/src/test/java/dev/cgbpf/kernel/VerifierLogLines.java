package dev.cgbpf.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A verifier log reduced to what the engine reproduces (docs/fidelity.md, "Logs"): without the
 * kernel's function and liveness preamble, its precision-tracking, stack-liveness and loop (SCC)
 * lines and precision marks, map addresses (with the padding before the state, which depends on the
 * address's length), the engine's func[pc+N] for the kernel's 0xN and the state counters of the statistics line. Where precision-tracking
 * lines or an SCC line came between an instruction and its state, the kernel prints the state on
 * a line of its own ("5: R0=..."); without those lines it belongs on the instruction's line, as
 * the engine has it.
 */
final class VerifierLogLines {
    private static final Pattern LIVE_REGS_ROW = Pattern.compile("^ *(\\d+ +)?\\d+: [.0-9]{10} .*");
    private static final Pattern MAP_ADDRESS = Pattern.compile("= (0x[0-9a-f]{16}|map\\[[^]]*\\](\\[0\\]\\+\\d+)?) *(?=;|$)");
    private static final Pattern STACK_LIVENESS = Pattern.compile("^\\([0-9,]+\\) (frame \\d+ insn \\d+ |live stack update ).*");
    /** the engine's listing names a callback's address func[pc+N] (it must read back as src 4); the kernel prints 0xN */
    private static final Pattern FUNC_ADDRESS = Pattern.compile("= func\\[pc([+-]\\d+)\\]");
    private static final Pattern SCC = Pattern.compile("^SCC (enter|exit) \\(\\d+\\)$");
    private static final Pattern INSN = Pattern.compile("^\\d+: \\([0-9a-f]{2}\\) [^;]*$");
    private static final Pattern STATE_LINE = Pattern.compile("^\\d+: (R\\d|fp-|frame\\d).*");
    private static final Pattern PRECISE = Pattern.compile("=P(?=[-0-9a-z(])");
    private static final Pattern STATS = Pattern.compile("^(processed \\d+ insns \\(limit \\d+\\)).*");

    private VerifierLogLines() {
    }

    static List<String> comparable(String log) {
        List<String> out = new ArrayList<>();
        boolean afterPrecise = false;
        for (String line : log.split("\n", -1)) {
            if (line.startsWith("mark_precise:") || SCC.matcher(line).matches()) {
                // either can come between an instruction and its state (an SCC entered at a
                // forced checkpoint, before a call of bpf_loop, say)
                afterPrecise = true;
                continue;
            }
            if (line.startsWith("func#") || line.equals("Live regs before insn:") || LIVE_REGS_ROW.matcher(line).matches()
                    || STACK_LIVENESS.matcher(line).matches() || SCC.matcher(line).matches() || line.isEmpty()) {
                continue;
            }
            line = FUNC_ADDRESS.matcher(line).replaceAll(
                    m -> "= 0x" + Long.toHexString(Integer.toUnsignedLong(Integer.parseInt(m.group(1)))));
            line = MAP_ADDRESS.matcher(line).replaceAll("= MAP ");
            line = PRECISE.matcher(line).replaceAll("=");
            line = STATS.matcher(line).replaceAll("$1");
            int last = out.size() - 1;
            if (afterPrecise && last >= 0 && INSN.matcher(out.get(last)).matches() && STATE_LINE.matcher(line).matches()) {
                out.set(last, out.get(last) + " ;" + line.substring(line.indexOf(':') + 1));
            } else {
                out.add(line);
            }
            afterPrecise = false;
        }
        // the padding before ';' follows the instruction text's length, compared on its own
        out.replaceAll(l -> l.replaceFirst("^(\\d+: \\([0-9a-f]{2}\\) [^;]*?) +;", "$1 ;"));
        return out;
    }

    static String firstDifference(List<String> kernel, List<String> engine) {
        int n = Math.min(kernel.size(), engine.size());
        int i = 0;
        while (i < n && kernel.get(i).equals(engine.get(i))) {
            i++;
        }
        return "    line " + (i + 1) + "\n    kernel: " + (i < kernel.size() ? kernel.get(i) : "(end)")
                + "\n    engine: " + (i < engine.size() ? engine.get(i) : "(end)");
    }
}
