package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The programs of one corpus file, verified by name with the corpus maps at fds 20 and up: for the
 * tests that pin parts of a log the differential corpus compares only on a host with a kernel.
 */
final class CorpusFile {
    private static final Map<String, Integer> FDS = new HashMap<>();
    private static final Map<Integer, MapSpec> SPECS = new HashMap<>();

    static {
        int fd = 20;
        for (Map.Entry<String, MapSpec> e : CorpusCase.MAPS.entrySet()) {
            FDS.put(e.getKey(), fd);
            SPECS.put(fd++, e.getValue());
        }
    }

    private final List<CorpusCase> cases;

    /** The fd the corpus map of this name has here. */
    static Integer fd(String map) {
        return FDS.get(map);
    }

    /** The corpus map at this fd. */
    static MapSpec spec(int fd) {
        return SPECS.get(fd);
    }

    CorpusFile(String file) {
        this.cases = CorpusCase.load(file);
    }

    CorpusCase named(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    /** The refusal of the program, verified at log level 1. */
    BpfException refused(String name) {
        CorpusCase c = named(name);
        return assertThrows(BpfException.class,
                () -> Verifier.verify(c.program(FDS::get), c.type(), c.attach(), SPECS::get, 1));
    }

    /** The level-2 log of a program the verifier accepts. */
    String acceptedLog(String name) throws BpfException {
        CorpusCase c = named(name);
        return Verifier.verify(c.program(FDS::get), c.type(), c.attach(), SPECS::get, 2).log();
    }
}
