package dev.cgbpf.hook.script;

import dev.cgbpf.engine.backend.Probe;

/** A helper endpoint a scenario opened with {@code listen}. */
record Listener(LoopbackAddress addr, int port, Probe.Proto proto) {
}
