package dev.cgbpf.engine.isa;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Helper function ids and names: enum bpf_func_id of the kernel this project is tested against
 * (the table is in bpf_func_id.txt next to this class, generated from the running kernel's BTF).
 * Names are as the verifier log prints them, with the {@code bpf_} prefix: {@code bpf_map_lookup_elem}.
 */
public final class HelperIds {
    private static final String RESOURCE = "bpf_func_id.txt";
    private static final List<String> NAMES;
    private static final Map<String, Integer> IDS = new HashMap<>();

    static {
        List<String> names = new ArrayList<>();
        try (InputStream in = HelperIds.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.strip().split("\\s+");
                int id = Integer.parseInt(f[0]);
                if (id != names.size()) {
                    throw new IllegalStateException(RESOURCE + ": id " + id + " out of order");
                }
                names.add("bpf_" + f[1]);
                IDS.put("bpf_" + f[1], id);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        NAMES = List.copyOf(names);
    }

    private HelperIds() {
    }

    /** __BPF_FUNC_MAX_ID: one past the highest helper id. */
    public static int maxId() {
        return NAMES.size();
    }

    /** The name the verifier prints for a helper call, e.g. {@code bpf_get_current_cgroup_id}. */
    public static Optional<String> name(int id) {
        return id >= 0 && id < NAMES.size() ? Optional.of(NAMES.get(id)) : Optional.empty();
    }

    /** The helper id of a name with the {@code bpf_} prefix. */
    public static Optional<Integer> id(String name) {
        return Optional.ofNullable(IDS.get(name));
    }
}
