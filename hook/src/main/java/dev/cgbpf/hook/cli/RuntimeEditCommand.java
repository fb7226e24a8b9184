package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.RuntimeEdit;

import java.nio.file.Path;

/**
 * {@code cgbpf runtime-edit --bundle DIR}: what the runtime shim {@code cgbpf-runtime} runs when no
 * daemon answers; the same edit the daemon does for it ({@link RuntimeEdit}).
 */
final class RuntimeEditCommand implements Command {

    @Override
    public String name() {
        return "runtime-edit";
    }

    @Override
    public String synopsis() {
        return "--bundle DIR";
    }

    @Override
    public String summary() {
        return "cgbpf-runtime's bundle edit: add the hook when the container has cgbpf settings";
    }

    @Override
    public String help() {
        return """
                What the runtime shim cgbpf-runtime runs before `create` and `run` when no
                cgbpf daemon answers. When cgbpf's policy applies to the container (a
                dev.cgbpf.* annotation, or a dev.cgbpf.KEY=VALUE entry of process.env, which
                is moved to the annotations; or appliesTo "all"), adds the hook stages to
                DIR/config.json as `cgbpf hook install` does, with the CGBPF_* settings of
                this environment; otherwise leaves the file alone. Exit 1 with one line when
                the edit was needed and failed: the shim then does not start the container.
                  CGBPF_HOOK    the hook registered (default: cgbpf-hook when installed)
                docs/runtimes.md has the details.
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        String bundle = null;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--bundle")) {
                bundle = args.value(o);
            } else {
                throw args.unknownOption(o);
            }
        }
        args.operands(0);
        if (bundle == null) {
            throw CliException.usage("runtime-edit: --bundle DIR is required");
        }
        RuntimeEdit.Result r = RuntimeEdit.run(System.getenv(), System.getenv(),
                Path.of(bundle).toAbsolutePath().normalize().toString());
        if (r.status() != 0) {
            console.err().println(r.line());
        }
        return r.status();
    }
}
