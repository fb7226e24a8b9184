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
    /** A port number, 0 to 65535. */
    PORT,
    /** A literal loopback address: 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
    LOOPBACK_ADDR,
    /** A loopback address or a wildcard (0.0.0.0, ::), as bind(2) takes. */
    BIND_ADDR,
    /** An array of strings. */
    STRING_ARRAY,
    /** A JSON object. */
    OBJECT
}
