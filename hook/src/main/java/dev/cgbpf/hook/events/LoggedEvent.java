package dev.cgbpf.hook.events;

import dev.cgbpf.hook.compile.EventKind;

import dev.cgbpf.hook.spec.RecordJson;
import dev.cgbpf.hook.spec.SpecException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * One line of the denials log and of {@code cgbpf events --json}: an event with its container
 * and rule words, or (with {@code suppressed} set) the line that says how many events of a
 * container the rate limit kept out of the log. Absent fields are left out of the line.
 *
 * @param time ISO-8601 with offset, when the daemon read the event
 * @param container the container id from its record; null for a cgroup without a record
 * @param ruleText the policy words of the rule ({@link dev.cgbpf.hook.compile.DenialRules}), when known
 * @param object the object in words ({@link DenialEvent#object()})
 * @param address, port, family, sockType, protocol: the socket object's fields (sock_addr and socket kinds)
 * @param major, minor, devType, access: the device object's fields
 * @param suppressed for a rate-limit line: the events of this container left out since the last line
 */
public record LoggedEvent(String time, String container, Long cgroupId, Integer pid, Integer tid, String comm,
                          String kind, Integer rule, String ruleText, String object, Integer family,
                          Integer sockType, Integer protocol, String address, Integer port, String devType,
                          Long major, Long minor, String access, Long suppressed) {
    private static final JsonFactory FACTORY = new JsonFactory();

    public static LoggedEvent of(String time, String container, String ruleText, DenialEvent e) {
        boolean device = e.kind() == EventKind.DEVICE;
        boolean sockAddr = !device && e.kind() != EventKind.SOCKET;
        return new LoggedEvent(time, container, e.cgroupId(), e.pid(), e.tid(), e.comm(), e.kind().word(), e.rule(),
                ruleText, e.object(), device ? null : e.a0(), device ? null : e.a1(), device ? null : e.a2(),
                sockAddr ? e.address().map(a -> a.getHostAddress()).orElse(null) : null,
                sockAddr ? e.port() : null,
                device ? DeviceWords.type(e.a0() & 0xffff) : null,
                device ? Integer.toUnsignedLong(e.a1()) : null, device ? Integer.toUnsignedLong(e.a2()) : null,
                device ? DeviceWords.access(e.a0() >>> 16) : null, null);
    }

    public static LoggedEvent suppressedLine(String time, String container, long cgroupId, long n) {
        return new LoggedEvent(time, container, cgroupId, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, n);
    }

    public boolean isSuppressed() {
        return suppressed != null;
    }

    /** One line of JSON, no newline; null components left out. */
    public String json() {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.writeStartObject();
            str(g, "time", time);
            str(g, "container", container);
            num(g, "cgroupId", cgroupId);
            num(g, "pid", pid);
            num(g, "tid", tid);
            str(g, "comm", comm);
            str(g, "kind", kind);
            num(g, "rule", rule);
            str(g, "ruleText", ruleText);
            str(g, "object", object);
            num(g, "family", family);
            num(g, "sockType", sockType);
            num(g, "protocol", protocol);
            str(g, "address", address);
            num(g, "port", port);
            str(g, "devType", devType);
            num(g, "major", major);
            num(g, "minor", minor);
            str(g, "access", access);
            num(g, "suppressed", suppressed);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory", e);
        }
        return w.toString();
    }

    private static void str(JsonGenerator g, String k, String v) throws IOException {
        if (v != null) {
            g.writeStringField(k, v);
        }
    }

    private static void num(JsonGenerator g, String k, Number v) throws IOException {
        if (v instanceof Integer i) {
            g.writeNumberField(k, i);
        } else if (v instanceof Long l) {
            g.writeNumberField(k, l);
        }
    }

    /** A line read back; empty for a line that is not one (a torn last line of a rotated log). */
    public static Optional<LoggedEvent> parse(String line) {
        try {
            return Optional.ofNullable(RecordJson.PLAIN.read(line.getBytes(StandardCharsets.UTF_8), LoggedEvent.class,
                    "denials log line"));
        } catch (SpecException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The human form: {@code web-1  pid 4242 (python3)  open c 1:5 w  denied by RULE}, or
     * {@code web-1  1234 more denials suppressed}.
     */
    public String human() {
        String who = container != null ? container : "cgroup " + cgroupId;
        if (isSuppressed()) {
            return time + "  " + who + "  " + suppressed + " more denials suppressed (rate limit)";
        }
        return time + "  " + who + "  pid " + pid + " (" + comm + ")  " + object + "  denied by "
                + (ruleText != null ? ruleText : EventKind.DEVICE.word().equals(kind) && rule != null
                ? DeviceWords.rule(rule) : kind + " rule " + rule);
    }
}
