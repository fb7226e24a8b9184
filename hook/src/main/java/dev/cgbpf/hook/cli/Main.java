package dev.cgbpf.hook.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;

/**
 * The {@code cgbpf} command: a hand-written dispatcher over the subcommands ({@link CommandLine}).
 * User mistakes end as one line {@code cgbpf: <reason>} on stderr and a non-zero exit status,
 * never a stack trace.
 */
public final class Main {
    /** Where {@code cgbpf bench} went (out of the product jar, with the other developer tools). */
    static final String BENCH_MOVED = "cgbpf-tools bench interp|hook (java -jar tools/target/cgbpf-tools.jar bench ...)";
    private static final CommandLine CGBPF = new CommandLine("cgbpf", "cgroup-bpf programs on the host kernel or in the JVM",
            List.of(new AsmCommand(), new DisasmCommand(), new ScriptCommand(), new MovedCommand("bench", BENCH_MOVED), new DoctorCommand(),
                    new VerifyCommand(), new HookCommand(), new DaemonCommand(), new PolicyCommand(), new CheckCommand(), new StatusCommand(),
                    new UpdateCommand(), new RuntimeEditCommand(), new EventsCommand()));

    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args, Console.system());
        System.out.flush();
        System.exit(status);
    }

    /** Runs one command line; returns the exit status. */
    public static int run(String[] argv, Console console) {
        return CGBPF.run(argv, console);
    }

    /** The version of this build (from the pom), or "unknown". */
    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: a missing version is not worth failing a command for
        }
        return "unknown";
    }
}
