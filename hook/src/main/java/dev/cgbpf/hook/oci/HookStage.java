package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.spec.Printable;

/**
 * The OCI hook stages (runtime-spec config.md "POSIX-platform Hooks") and what cgbpf does in
 * each. createRuntime and prestart attach: both run in the runtime namespace after the
 * container's cgroup exists and before the user process starts (prestart is deprecated but runc
 * 1.1 and crun still run it). poststop removes what the attach stage made. The other stages run
 * too late (poststart) or inside the container's mount namespace (createContainer,
 * startContainer), where the host's bpffs and cgroup paths are not what the hook expects.
 */
public enum HookStage {
    CREATE_RUNTIME("createRuntime", Action.ATTACH),
    PRESTART("prestart", Action.ATTACH),
    POSTSTOP("poststop", Action.CLEANUP);

    /** What a stage does. */
    public enum Action { ATTACH, CLEANUP }

    private final String specName;
    private final Action action;

    HookStage(String specName, Action action) {
        this.specName = specName;
        this.action = action;
    }

    /** The stage's name in config.json {@code hooks} and on the command line. */
    public String specName() {
        return specName;
    }

    public Action action() {
        return action;
    }

    /** The stage named {@code s}; a stage cgbpf does not run in, or no stage at all, is a one-line error. */
    public static HookStage parse(String s) throws HookException {
        for (HookStage st : values()) {
            if (st.specName.equals(s)) {
                return st;
            }
        }
        switch (s == null ? "" : s) {
            case "createContainer", "startContainer" -> throw new HookException("hook stage " + s
                    + " runs in the container's mount namespace; cgbpf attaches at createRuntime (or prestart)"
                    + " and cleans up at poststop");
            case "poststart" -> throw new HookException("hook stage poststart runs after the user process has"
                    + " started, too late to enforce anything; use createRuntime (or prestart) and poststop");
            default -> throw new HookException("unknown hook stage " + Printable.quote(s)
                    + " (cgbpf runs at createRuntime, prestart and poststop)");
        }
    }
}
