package dev.cgbpf.hook.policy;

/** A device node found on the host: its path (as matched), type and numbers. */
public record DeviceNode(String path, DeviceType type, long major, long minor) {
}
