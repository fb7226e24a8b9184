package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.verifier.CorpusCase;
import java.util.HashMap;
import java.util.Map;

/**
 * The maps the verifier corpus refers to by name, created in the kernel: the kernel's fds for
 * loading, and the same fds mapped to their specs for the engine verifier, so that both see one
 * program with the same immediates.
 */
public record CorpusMaps(Map<String, Integer> fdsByName, Map<Integer, MapSpec> specsByFd) {
    public static CorpusMaps create(KernelBackend k) throws BpfException {
        Map<String, Integer> fds = new HashMap<>();
        Map<Integer, MapSpec> specs = new HashMap<>();
        for (Map.Entry<String, MapSpec> e : CorpusCase.MAPS.entrySet()) {
            int fd = k.createMap(e.getValue()).fd();
            fds.put(e.getKey(), fd);
            specs.put(fd, e.getValue());
        }
        return new CorpusMaps(fds, specs);
    }

    public Integer fd(String name) {
        return fdsByName.get(name);
    }

    public MapSpec spec(int fd) {
        return specsByFd.get(fd);
    }
}
