package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.spec.SpecException;

import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One hook stage from its environment and its state document to the exit status and the lines
 * for stderr: what {@code cgbpf hook STAGE} does, shared by the command line and the daemon so
 * that both give the same status and the same one-line messages.
 */
public final class StageRun {
    /** The exit status of a stage that failed (bad input, a kernel refusal, an internal error). */
    public static final int FAILED = 1;

    private StageRun() {
    }

    /** Where the state document comes from: stdin for the command line, the request for the daemon. */
    @FunctionalInterface
    public interface StateSource {
        byte[] read() throws SpecException;
    }

    /**
     * What a stage ended with.
     *
     * @param status the exit status
     * @param warning the warning line for stderr ({@code cgbpf: warning: ...}), or null
     * @param error the error line for stderr ({@code cgbpf: hook: ...}), or null when the stage succeeded
     */
    public record Result(int status, String warning, String error) {
    }

    /** The line {@code cgbpf hook} prints for a stage it refuses: {@code cgbpf: hook: <reason>}. */
    public static String errorLine(HookException e) {
        return "cgbpf: hook: " + e.getMessage();
    }

    /**
     * Runs {@code stage}.
     *
     * @param env the hook's environment (the CGBPF_* settings, {@link HookSettings#fromEnvironment})
     * @param dryRun {@code --dry-run}: verify and record, enforce nothing
     * @param keep see {@link OciHook#keepingOnlyIf}; {@code () -> true} for the command line
     */
    public static Result run(HookStage stage, boolean dryRun, Map<String, String> env, StateSource state,
                             BooleanSupplier keep) {
        HookSettings settings;
        try {
            settings = HookSettings.fromEnvironment(env);
        } catch (HookException e) {
            return new Result(FAILED, null, errorLine(e));
        }
        if (dryRun) {
            settings = settings.withBackend(HookSettings.BackendMode.DRY_RUN);
        }
        HookLog log = new HookLog(settings.logFile());
        byte[] bytes;
        try {
            bytes = state.read();
        } catch (SpecException e) {
            return new Result(FAILED, null, errorLine(new HookException(e.getMessage())));
        }
        try {
            OciHook.Outcome out = new OciHook(settings, log).keepingOnlyIf(keep).run(stage, bytes);
            return new Result(out.status(), out.warning() == null ? null : "cgbpf: warning: " + out.warning(), null);
        } catch (HookException e) {
            return new Result(FAILED, null, errorLine(e));
        } catch (RuntimeException e) {
            // a bug, not bad input: still one line, and the runtime refuses the container
            log.failure("internal error: " + e);
            return new Result(FAILED, null, "cgbpf: hook " + stage.specName() + ": internal error: " + e);
        }
    }
}
