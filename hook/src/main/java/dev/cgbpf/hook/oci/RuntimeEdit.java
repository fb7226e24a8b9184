package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.hook.policy.AppliesTo;
import dev.cgbpf.hook.policy.HostDevices;
import dev.cgbpf.hook.policy.HostPolicy;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PolicyException;
import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.Json;
import dev.cgbpf.hook.spec.Printable;
import dev.cgbpf.hook.spec.SpecException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The bundle edit the runtime shim {@code cgbpf-runtime} asks for before {@code create} and
 * {@code run}: when cgbpf's policy applies to the container (a {@code dev.cgbpf.*} annotation, or
 * {@code appliesTo: all} in the host policy), the hook stages are added to its config.json as
 * {@code cgbpf hook install} adds them ({@link BundleHooks}); otherwise the file is left alone.
 * Run by the daemon (request kind {@code bundle}) or, when none answers, by
 * {@code cgbpf runtime-edit --bundle DIR}.
 *
 * <p>Docker before 24 cannot set annotations; what it does put in config.json is the process
 * environment ({@code docker run -e}). So an entry {@code dev.cgbpf.KEY=VALUE} of
 * {@code process.env} is a setting: it is moved to the annotations (and out of the container's
 * environment) before the policy is looked at. An annotation and an entry for the same key with
 * different values is refused rather than one chosen silently.
 */
public final class RuntimeEdit {
    /** The hook client the edit registers; default: {@link HookExecutable#defaultPath()}. */
    public static final String HOOK = "CGBPF_HOOK";
    /** The settings copied, when set, into the hook entries' env (the runtime gives a hook only those). */
    public static final List<String> HOOK_ENV = List.of("CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR",
            "CGBPF_LOG_FILE", "CGBPF_BACKEND", "CGBPF_ATTACH", "CGBPF_SOCKET", "CGBPF_LAUNCHER",
            "CGBPF_HOOK_TIMEOUT_MS");

    /** What the edit did: exit status 0 with what was done, or 1 with the line saying why not. */
    public record Result(int status, String line) {
    }

    private RuntimeEdit() {
    }

    /**
     * Edits {@code bundle}/config.json.
     *
     * @param settings where the host policy path comes from ({@code CGBPF_POLICY})
     * @param forwarded the settings the shim had, copied into the hook entries ({@link #HOOK_ENV}, {@link #HOOK})
     */
    public static Result run(Map<String, String> settings, Map<String, String> forwarded, String bundle) {
        try {
            return new Result(0, edit(settings, forwarded, bundle));
        } catch (HookException e) {
            return new Result(1, "cgbpf: runtime-edit: " + e.getMessage());
        }
    }

    private static String edit(Map<String, String> settings, Map<String, String> forwarded, String bundleText)
            throws HookException {
        Path bundle = Path.of(bundleText);
        if (!bundle.isAbsolute() || !Files.isDirectory(bundle)) {
            throw new HookException("bundle " + Printable.quote(bundleText) + " is not an absolute path of a directory");
        }
        Path file = bundle.resolve(Config.FILE);
        ObjectNode doc;
        try {
            byte[] bytes = Json.readBytes(file, Config.FILE);
            Config.parse(bytes);
            if (!(BundleHooks.readKeepingNumbers(bytes) instanceof ObjectNode o)) {
                throw new HookException(Config.FILE + ": the document is not an object");
            }
            doc = o;
        } catch (SpecException | IOException e) {
            throw new HookException(file + ": " + e.getMessage());
        }
        int lifted = liftEnvironmentSettings(doc);
        boolean annotated = false;
        for (Iterator<String> it = doc.path("annotations").fieldNames(); it.hasNext(); ) {
            annotated |= it.next().startsWith(Policy.ANNOTATION_PREFIX);
        }
        String p = settings.get("CGBPF_POLICY");
        HostPolicy host;
        try {
            host = HostPolicy.load(p == null || p.isEmpty() ? HostPolicy.DEFAULT_PATH : Path.of(p), new HostDevices(),
                    Policy.MAX_DEVICE_RULES);
        } catch (PolicyException e) {
            throw new HookException(e.getMessage());
        }
        if (!annotated && host.appliesTo() != AppliesTo.ALL) {
            return "no cgbpf settings and appliesTo annotated: " + file + " left as it is";
        }
        String hook = forwarded.get(HOOK);
        List<String> env = new ArrayList<>();
        for (String k : HOOK_ENV) {
            String v = forwarded.get(k);
            if (v != null) {
                env.add(k + "=" + v);
            }
        }
        BundleHooks hooks = new BundleHooks(hook == null || hook.isEmpty() ? HookExecutable.defaultPath() : hook,
                HookStage.CREATE_RUNTIME, env, null);
        hooks.check();
        hooks.addTo(doc);
        BundleHooks.replace(bundle, BundleHooks.write(doc));
        return "added the cgbpf hook (createRuntime, poststop) to " + file
                + (lifted > 0 ? " and moved " + lifted + " dev.cgbpf.* setting(s) of process.env to the annotations" : "");
    }

    /** Moves {@code dev.cgbpf.KEY=VALUE} entries of process.env to the annotations; how many. */
    static int liftEnvironmentSettings(ObjectNode doc) throws HookException {
        JsonNode env = doc.path("process").path("env");
        if (!(env instanceof ArrayNode list)) {
            return 0;
        }
        int n = 0;
        for (Iterator<JsonNode> it = list.elements(); it.hasNext(); ) {
            String e = it.next().asText("");
            int eq = e.indexOf('=');
            if (!e.startsWith(Policy.ANNOTATION_PREFIX) || eq < 0) {
                continue;
            }
            String key = e.substring(0, eq);
            String value = e.substring(eq + 1);
            JsonNode a = doc.get("annotations");
            if (a != null && !a.isObject() && !a.isNull()) {
                throw new HookException(Config.FILE + ": field 'annotations' is not an object");
            }
            ObjectNode ann = a instanceof ObjectNode o ? o : doc.putObject("annotations");
            JsonNode old = ann.get(key);
            if (old != null && !value.equals(old.asText())) {
                throw new HookException("setting " + Printable.quote(key) + " is both an annotation ("
                        + Printable.quote(old.asText()) + ") and in process.env (" + Printable.quote(value)
                        + "); give it once");
            }
            ann.put(key, value);
            it.remove();
            n++;
        }
        return n;
    }
}
