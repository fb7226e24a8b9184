package dev.cgbpf.hook.script;

import java.util.ArrayList;
import java.util.List;

/**
 * A cgroup path inside the scenario root, as components. {@code ""} and {@code "."} are the root;
 * absolute paths and any {@code ..} are refused, so no scenario can reach a cgroup it did not make.
 */
public record ScenarioPath(List<String> components) {

    public ScenarioPath {
        components = List.copyOf(components);
    }

    public static ScenarioPath parse(String text) throws MalformedLineException {
        if (text.startsWith("/")) {
            throw new MalformedLineException("path '" + text + "' is absolute; paths are relative to the scenario root");
        }
        if (text.indexOf('\0') >= 0) {
            throw new MalformedLineException("path contains a NUL byte");
        }
        List<String> parts = new ArrayList<>();
        for (String part : text.split("/")) {
            if (part.equals("..")) {
                throw new MalformedLineException("path '" + text + "' uses '..'; it may not leave the scenario root");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return new ScenarioPath(parts);
    }

    public boolean isRoot() {
        return components.isEmpty();
    }

    /** The path as a backend takes it: components joined by '/', "" for the root. */
    public String relative() {
        return String.join("/", components);
    }

    @Override
    public String toString() {
        return isRoot() ? "." : String.join("/", components);
    }
}
