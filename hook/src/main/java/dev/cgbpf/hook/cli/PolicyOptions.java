package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PolicyException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options {@code policy explain} and {@code check} share: the bundle, the host policy file
 * (default CGBPF_POLICY or /etc/cgbpf/policy.json) and extra annotations, as an engine such as
 * podman would pass them in the state.
 */
final class PolicyOptions {
    String bundle;
    String policy;
    final Map<String, String> annotations = new LinkedHashMap<>();

    /** Consumes {@code option} if it is one of ours. */
    boolean accept(String option, Args args) throws CliException {
        switch (option) {
            case "--bundle" -> bundle = args.value(option);
            case "--policy" -> policy = args.value(option);
            case "--annotation" -> {
                String kv = args.value(option);
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw CliException.usage("--annotation '" + kv + "' is not KEY=VALUE");
                }
                annotations.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    Policy load(String command) throws CliException {
        if (bundle == null) {
            throw CliException.usage(command + ": --bundle DIR is required");
        }
        try {
            Path host = policy != null ? Path.of(policy) : HookSettings.fromEnvironment(System.getenv()).policy();
            return Policy.load(Path.of(bundle), host, annotations);
        } catch (PolicyException | HookException e) {
            throw CliException.badInput(command + ": " + e.getMessage());
        }
    }

    static final String HELP = """
              --bundle DIR          the container's bundle (DIR/config.json)
              --policy FILE         host policy (default: CGBPF_POLICY, else /etc/cgbpf/policy.json)
              --annotation KEY=VAL  an annotation as the runtime's state would carry it (repeatable)
            """;
}
