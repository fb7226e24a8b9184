package dev.cgbpf.hook.script;

import java.util.List;
import java.util.Optional;

/** An op of the scenario format: its fields, and the handler that runs it. */
record OpSpec(String name, List<FieldSpec> fields, OpHandler handler) {

    OpSpec {
        fields = List.copyOf(fields);
    }

    Optional<FieldSpec> field(String fieldName) {
        return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst();
    }
}
