package dev.cgbpf.hook.script;

/**
 * What a scenario field's JSON value must look like. Checked for every op before it runs, so a
 * handler only ever sees well-typed values (and unsupported ops still report bad paths/addresses).
 */
enum FieldKind {
    /** A non-empty string naming a prog or map of the scenario. */
    NAME,
    /** Any string (types, attach types, licenses, devices...). */
    STRING,
    /** An integer from 0 to 2^31-1 (sizes, counts, ports). */
    UINT,
    BOOL,
    /** Bytes as hex digits, an even number of them. */
    HEX,
    /** A cgroup path relative to the scenario root. */
    PATH,
    /** A literal loopback address: 127.0.0.0/8 or ::1. */
    LOOPBACK_ADDR,
    /** An array of strings. */
    STRING_ARRAY,
    /** A JSON object. */
    OBJECT
}
