package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The executable a runtime runs for cgbpf's hook, and its arguments. Two forms:
 * <ul>
 *   <li>the C client {@code cgbpf-hook} ({@code native/src/main/c/cgbpf-hook.c}): args
 *       {@code ["cgbpf-hook", STAGE]}; it asks the resident daemon and falls back to the launcher;</li>
 *   <li>the launcher {@code cgbpf} (a JVM per stage): args {@code ["cgbpf", "hook", STAGE]}.</li>
 * </ul>
 * A path whose file name is {@code cgbpf-hook} is the client; any other path is a launcher.
 */
public final class HookExecutable {
    public static final String LAUNCHER = "/usr/local/bin/cgbpf";
    public static final String CLIENT = "/usr/local/bin/cgbpf-hook";
    public static final String CLIENT_NAME = "cgbpf-hook";

    private HookExecutable() {
    }

    /** The default path: the client when it is installed (executable at {@link #CLIENT}), else the launcher. */
    public static String defaultPath() {
        return defaultPath(Path.of(CLIENT));
    }

    static String defaultPath(Path client) {
        return Files.isRegularFile(client) && Files.isExecutable(client) ? client.toString() : LAUNCHER;
    }

    /** Whether {@code path} names the C client: its file name is {@code cgbpf-hook}. */
    public static boolean isClient(String path) {
        return CLIENT_NAME.equals(path.substring(path.lastIndexOf('/') + 1));
    }

    /** The hook entry's {@code args} (argv, with argv[0]) for {@code path} at {@code stage}. */
    public static List<String> args(String path, HookStage stage) {
        return isClient(path) ? List.of(CLIENT_NAME, stage.specName()) : List.of("cgbpf", "hook", stage.specName());
    }

    /** Whether a hook entry with this path and args is cgbpf's, in either form, wherever installed. */
    static boolean isOurs(String path, JsonNode args) {
        String a0 = args.path(0).asText(null);
        if ("cgbpf".equals(a0) && "hook".equals(args.path(1).asText(null))) {
            return true;
        }
        return CLIENT_NAME.equals(a0) && path != null && isClient(path);
    }
}
