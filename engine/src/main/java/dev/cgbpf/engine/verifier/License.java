package dev.cgbpf.engine.verifier;

import java.util.Set;

/**
 * license_is_gpl_compatible: the license strings (compared exactly) under which a program may
 * call GPL-only helpers.
 */
final class License {
    private static final Set<String> GPL_COMPATIBLE = Set.of("GPL", "GPL v2", "GPL and additional rights",
            "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL");

    private License() {
    }

    static boolean isGplCompatible(String license) {
        return license != null && GPL_COMPATIBLE.contains(license);
    }
}
