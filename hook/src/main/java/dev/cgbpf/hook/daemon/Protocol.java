package dev.cgbpf.hook.daemon;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The wire protocol between the hook client ({@code cgbpf-hook}, a small C program the runtime
 * runs) and the daemon, over a Unix stream socket. docs/daemon.md has the full text; in short:
 *
 * <pre>
 * client: cgbpf-hook 1 STAGE\n          STAGE: createRuntime | prestart | poststop | status
 *         env KEY=VALUE\n               zero or more: CGBPF_POLICY, CGBPF_RUN_DIR, CGBPF_PIN_DIR,
 *                                       CGBPF_LOG_FILE, CGBPF_BACKEND, CGBPF_ATTACH (others ignored)
 *         state N\n                     then exactly N bytes: the runtime's state JSON (not for status);
 *                                       for STAGE=bundle (cgbpf-runtime), the bundle's absolute path
 *         (shuts down its write side)
 * daemon: accepted\n                    the whole request is read and parsed; the stage runs now
 *         warning LINE\n                optional: what `cgbpf hook STAGE` prints as a warning
 *         error LINE\n                  optional: what `cgbpf hook STAGE` prints when it fails
 *         exit N\n                      its exit status; then the daemon closes the connection
 * </pre>
 *
 * A malformed request gets {@code error LINE} and {@code exit 2} without {@code accepted}: nothing
 * was run. So does a stage that {@code cgbpf hook} refuses by name ({@code exit 1}, its own line).
 * A peer that is not uid 0 gets {@link #REFUSED} and nothing else.
 */
public final class Protocol {
    public static final String MAGIC = "cgbpf-hook";
    public static final String VERSION = "1";
    /** The request for the daemon's own state instead of a hook stage. */
    public static final String STATUS = "status";
    /**
     * The request of the runtime shim: add the hook stages to the bundle whose path is the body
     * ({@link dev.cgbpf.hook.oci.RuntimeEdit}); its env lines are also what the hook entries get.
     */
    public static final String BUNDLE = "bundle";
    /**
     * {@code cgbpf update ID --devices RULES} served by the daemon: the body is the id, a newline
     * and the rules ({@link dev.cgbpf.hook.oci.UpdateDevices}); answered with {@code accepted},
     * an {@code info} line saying what is in force, {@code warning} lines, and {@code exit 0}, or
     * {@code error cgbpf: update: ...} and {@code exit 1}.
     */
    public static final String UPDATE = "update";
    /**
     * The request for the live denial events (cgbpf events --follow): answered with
     * {@code accepted}, then one {@code event JSON} line per denial line the daemon logs, until
     * the client closes or the daemon stops (docs/events.md).
     */
    public static final String EVENTS = "events";
    public static final String EVENT = "event";
    /** The settings a request may carry; other keys are ignored. */
    public static final Set<String> ENV_KEYS = Set.of("CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR",
            "CGBPF_LOG_FILE", "CGBPF_BACKEND", "CGBPF_ATTACH");
    /** What a {@link #BUNDLE} request may carry besides: the client's own settings, written into the hook entries. */
    public static final Set<String> CLIENT_KEYS = Set.of("CGBPF_SOCKET", "CGBPF_LAUNCHER", "CGBPF_HOOK_TIMEOUT_MS",
            "CGBPF_HOOK");
    /** The longest line of a request, its newline included. */
    public static final int MAX_LINE = 8192;
    /** The most {@code env} lines a request may have. */
    public static final int MAX_ENV_LINES = 256;

    public static final String ACCEPTED = "accepted";
    public static final String WARNING = "warning";
    public static final String ERROR = "error";
    public static final String EXIT = "exit";
    public static final String INFO = "info";
    public static final String REFUSED = "refused: only root may ask the cgbpf daemon";
    /** The exit status of a malformed request (as for a command-line usage error). */
    public static final int MALFORMED = 2;
    /** The longest payload of an answer line; a longer message is cut. */
    static final int MAX_PAYLOAD = 4000;

    private Protocol() {
    }

    /** The requests that carry no state: status and events. */
    static boolean takesNoState(String stage) {
        return STATUS.equals(stage) || EVENTS.equals(stage);
    }

    /** {@code word payload\n}, the payload made one line (control characters become spaces) and cut to size. */
    static byte[] line(String word, String payload) {
        if (payload == null) {
            return (word + "\n").getBytes(StandardCharsets.UTF_8);
        }
        StringBuilder b = new StringBuilder(word.length() + payload.length() + 2).append(word).append(' ');
        int n = Math.min(payload.length(), MAX_PAYLOAD);
        for (int i = 0; i < n; i++) {
            char c = payload.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        if (payload.length() > MAX_PAYLOAD) {
            b.append("...");
        }
        return b.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }
}
