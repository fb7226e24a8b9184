package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.databind.util.StdConverter;
import dev.cgbpf.engine.backend.AttachType;

/** A record's attach type in JSON: its scenario-format name ({@code cgroup_device}), as scenarios spell it. */
final class AttachTypeJson {
    private AttachTypeJson() {
    }

    static final class ToName extends StdConverter<AttachType, String> {
        @Override
        public String convert(AttachType t) {
            return t.scenarioName();
        }
    }

    static final class FromName extends StdConverter<String, AttachType> {
        @Override
        public AttachType convert(String name) {
            return AttachType.fromScenarioName(name);
        }
    }
}
