package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.hook.script.ScenarioRunner;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.KernelBackend;
import java.util.Optional;
import java.util.function.Function;

/** The {@code --backend} of a command: the in-JVM engine or the host kernel. */
enum BackendChoice {
    ENGINE("engine"),
    KERNEL("kernel");

    private final String label;

    BackendChoice(String label) {
        this.label = label;
    }

    static BackendChoice parse(String s) throws CliException {
        for (BackendChoice c : values()) {
            if (c.label.equals(s)) {
                return c;
            }
        }
        throw CliException.usage("unknown backend '" + s + "' (engine or kernel)");
    }

    /** Why this backend cannot be used here, if it cannot. */
    Optional<String> unavailableReason() {
        if (this == KERNEL) {
            BpfAvailability a = KernelBackend.availability();
            return a.usable() ? Optional.empty() : Optional.of(a.reason());
        }
        return Optional.empty();
    }

    /** Opens the backend; an unavailable one is a {@link CliException} with exit status 2. */
    Backend open() throws CliException {
        return open(BackendChoice::unavailableReason);
    }

    /** {@link #open()} with the availability answer from elsewhere (tests ask "what if bpf(2) were missing"). */
    Backend open(Function<BackendChoice, Optional<String>> availability) throws CliException {
        Optional<String> why = availability.apply(this);
        if (why.isPresent()) {
            throw new CliException(label + " backend unavailable: " + why.get(), ScenarioRunner.EXIT_UNAVAILABLE);
        }
        return this == KERNEL ? new KernelBackend() : new EngineBackend();
    }
}
