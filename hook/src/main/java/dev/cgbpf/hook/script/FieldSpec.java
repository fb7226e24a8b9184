package dev.cgbpf.hook.script;

/** One field an op takes. */
record FieldSpec(String name, FieldKind kind, boolean required) {

    static FieldSpec req(String name, FieldKind kind) {
        return new FieldSpec(name, kind, true);
    }

    static FieldSpec opt(String name, FieldKind kind) {
        return new FieldSpec(name, kind, false);
    }
}
