package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.BundleHooks;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookExecutable;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.OciHooksFile;
import dev.cgbpf.hook.oci.StageRun;
import dev.cgbpf.hook.policy.HostDevices;
import dev.cgbpf.hook.policy.HostPolicy;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PolicyException;
import dev.cgbpf.hook.spec.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cgbpf hook STAGE} (the OCI hook the runtime runs, state JSON on stdin), plus
 * {@code cgbpf hook install --bundle DIR} and {@code cgbpf hook oci-config}.
 */
final class HookCommand implements Command {

    @Override
    public String name() {
        return "hook";
    }

    @Override
    public String synopsis() {
        return "[--dry-run] STAGE < state.json | install --bundle DIR [options] | oci-config [options]";
    }

    @Override
    public String summary() {
        return "the OCI hook: attach a container's programs, or clean them up";
    }

    @Override
    public String help() {
        return """
                cgbpf hook [--dry-run] STAGE
                  The hook a runtime runs, the container's state JSON on stdin. STAGE is
                  createRuntime or prestart (attach the container's programs) or poststop
                  (remove them). Exit 0 on success; on failure one line on stderr and exit 1,
                  so that the runtime does not start the container. "failurePolicy": "open"
                  in the host policy lets only failures of the machine pass (bpf(2) not
                  usable, no cgroup v2, no bpffs) with a warning; bad input always fails.
                  --dry-run (or CGBPF_BACKEND=dry-run) verifies and records what would be
                  attached and enforces nothing; a stage never does that by itself.
                  docs/hook.md has the details; environment: CGBPF_POLICY, CGBPF_RUN_DIR,
                  CGBPF_PIN_DIR, CGBPF_LOG_FILE, CGBPF_BACKEND (kernel, dry-run),
                  CGBPF_ATTACH (link, attach).

                cgbpf hook install --bundle DIR
                  Adds the hook to DIR/config.json (for plain runc or crun): the attach stage
                  and poststop. Other content of the file is kept as it is; running it again
                  replaces the earlier entries.
                    --path FILE     what the runtime runs: by default the C client %s
                                    when it is installed (it asks the cgbpf daemon, else runs
                                    the JVM hook), else the launcher %s. A file named
                                    cgbpf-hook runs as "cgbpf-hook STAGE", any other as
                                    "cgbpf hook STAGE".
                    --stage STAGE   createRuntime (default) or prestart
                    --policy FILE   host policy file for this bundle (sets CGBPF_POLICY)
                    --env KEY=VALUE environment of the hook (repeatable)
                    --timeout SEC   hook timeout

                cgbpf hook oci-config [--stage STAGE] [--path FILE] [--policy FILE]
                  Prints the oci-hooks(5) file for podman / CRI-O hooks directories; its
                  when-condition follows the host policy's appliesTo. --path as for install.
                """.formatted(HookExecutable.CLIENT, HookExecutable.LAUNCHER);
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        String bundle = null;
        String path = null;
        String stage = null;
        String policy = null;
        Integer timeout = null;
        boolean dryRun = false;
        List<String> env = new ArrayList<>();
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--bundle" -> bundle = args.value(o);
                case "--path" -> path = args.value(o);
                case "--stage" -> stage = args.value(o);
                case "--policy" -> policy = args.value(o);
                case "--env" -> env.add(args.value(o));
                case "--timeout" -> timeout = Args.intValue(args.value(o), o);
                case "--dry-run" -> dryRun = true;
                default -> throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(1);
        if (path == null) {
            path = HookExecutable.defaultPath();
        }
        if (operands.isEmpty()) {
            throw CliException.usage("hook: which stage? (createRuntime, prestart, poststop; or install, oci-config)");
        }
        try {
            switch (operands.get(0)) {
                case "install" -> {
                    if (bundle == null) {
                        throw CliException.usage("hook install: --bundle DIR is required");
                    }
                    if (policy != null) {
                        env.add("CGBPF_POLICY=" + Path.of(policy).toAbsolutePath().normalize());
                    }
                    HookStage st = stage == null ? HookStage.CREATE_RUNTIME : HookStage.parse(stage);
                    if (st.action() != HookStage.Action.ATTACH) {
                        throw CliException.usage("hook install: --stage must be createRuntime or prestart");
                    }
                    new BundleHooks(path, st, env, timeout).install(Path.of(bundle));
                    console.out().println("added the cgbpf hook (" + st.specName() + ", poststop) to "
                            + Path.of(bundle).resolve("config.json"));
                    return 0;
                }
                case "oci-config" -> {
                    HookStage st = stage == null ? HookStage.CREATE_RUNTIME : HookStage.parse(stage);
                    Path p = policy == null ? HostPolicy.DEFAULT_PATH : Path.of(policy);
                    HostPolicy host = HostPolicy.load(p, new HostDevices(), Policy.MAX_DEVICE_RULES);
                    console.out().print(OciHooksFile.render(path, st, host.appliesTo()));
                    return 0;
                }
                default -> {
                    if (bundle != null || stage != null || policy != null || timeout != null || !env.isEmpty()) {
                        throw CliException.usage("hook " + operands.get(0) + ": takes no options (settings come from"
                                + " the environment)");
                    }
                    return stage(HookStage.parse(operands.get(0)), dryRun, console);
                }
            }
        } catch (HookException e) {
            throw CliException.badInput("hook: " + e.getMessage());
        } catch (PolicyException e) {
            throw CliException.badInput("hook: " + e.getMessage());
        }
    }

    private static int stage(HookStage stage, boolean dryRun, Console console) {
        // stderr is what the runtime shows its user when the hook fails: keep it to warnings
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        StageRun.Result r = StageRun.run(stage, dryRun, System.getenv(),
                () -> Json.readLimited(console.in(), "state"), () -> true);
        if (r.warning() != null) {
            console.err().println(r.warning());
        }
        if (r.error() != null) {
            console.out().flush();
            console.err().println(r.error());
        }
        return r.status();
    }
}
