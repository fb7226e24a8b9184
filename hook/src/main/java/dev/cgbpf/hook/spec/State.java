package dev.cgbpf.hook.spec;

import java.io.InputStream;
import java.util.Map;
import java.util.Set;

/**
 * The runtime's state of a container (runtime-spec runtime.md "State"), as a hook gets it on stdin.
 *
 * @param ociVersion the spec version the state complies with (required)
 * @param id the container id (required; validated as runc does, because it becomes a path)
 * @param status creating, created, running or stopped (required)
 * @param pid the container process on the host; absent after the process is gone (runc's
 *            poststop state has none, crun's says 0: both read as absent)
 * @param bundle absolute path of the bundle directory (required)
 * @param annotations the container's annotations, may be absent
 */
public record State(String ociVersion, String id, String status, Integer pid, String bundle,
                    Map<String, String> annotations) {

    /** The status values runtime.md defines. */
    public static final Set<String> STATUSES = Set.of("creating", "created", "running", "stopped");

    public State {
        // crun's poststop state says "pid": 0 for "no process any more"; runc leaves the field out
        if (pid != null && pid == 0) {
            pid = null;
        }
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** Parses and validates the state JSON; every problem is one line starting with "state: ". */
    public static State parse(byte[] json) throws SpecException {
        return Json.parse(json, State.class, "state").validate();
    }

    public static State read(InputStream in) throws SpecException {
        return parse(Json.readLimited(in, "state"));
    }

    State validate() throws SpecException {
        String what = "state";
        if (ociVersion == null || ociVersion.isBlank()) {
            throw new SpecException(what + ": field 'ociVersion': missing");
        }
        ContainerId.validate(id, what);
        if (status == null) {
            throw new SpecException(what + ": field 'status': missing");
        }
        if (!STATUSES.contains(status)) {
            throw new SpecException(what + ": field 'status': " + Printable.quote(status)
                    + " is not one of creating, created, running, stopped");
        }
        if (pid != null && pid <= 0) {
            throw new SpecException(what + ": field 'pid': " + pid + " is not a process id");
        }
        if (bundle == null || bundle.isEmpty()) {
            throw new SpecException(what + ": field 'bundle': missing");
        }
        if (!bundle.startsWith("/") || bundle.indexOf('\0') >= 0) {
            throw new SpecException(what + ": field 'bundle': " + Printable.quote(bundle) + " is not an absolute path");
        }
        Annotations.check(annotations, what);
        return this;
    }
}
