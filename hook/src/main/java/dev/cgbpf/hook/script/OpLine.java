package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One scenario line whose fields have been checked against its {@link OpSpec}: every field is
 * known, every required field is present, and each value has the right kind.
 */
final class OpLine {
    private final int lineNumber;
    private final OpSpec spec;
    private final Map<String, Object> values;

    private OpLine(int lineNumber, OpSpec spec, Map<String, Object> values) {
        this.lineNumber = lineNumber;
        this.spec = spec;
        this.values = values;
    }

    static OpLine check(int lineNumber, OpSpec spec, ObjectNode json) throws MalformedLineException {
        Map<String, Object> values = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : json.properties()) {
            if (e.getKey().equals("op")) {
                continue;
            }
            FieldSpec f = spec.field(e.getKey()).orElseThrow(() -> new MalformedLineException(
                    "op '" + spec.name() + "' has no field '" + e.getKey() + "'"));
            values.put(f.name(), convert(f, e.getValue()));
        }
        for (FieldSpec f : spec.fields()) {
            if (f.required() && !values.containsKey(f.name())) {
                throw new MalformedLineException("op '" + spec.name() + "' needs field '" + f.name() + "'");
            }
        }
        return new OpLine(lineNumber, spec, values);
    }

    private static Object convert(FieldSpec f, JsonNode v) throws MalformedLineException {
        String name = f.name();
        switch (f.kind()) {
            case NAME -> {
                String s = text(name, v);
                if (s.isEmpty()) {
                    throw new MalformedLineException("field '" + name + "' must not be empty");
                }
                return s;
            }
            case STRING -> {
                return text(name, v);
            }
            case UINT -> {
                if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                    throw new MalformedLineException("field '" + name + "' must be an integer from 0 to 2147483647");
                }
                return v.intValue();
            }
            case BOOL -> {
                if (!v.isBoolean()) {
                    throw new MalformedLineException("field '" + name + "' must be true or false");
                }
                return v.booleanValue();
            }
            case HEX -> {
                return hex(name, text(name, v));
            }
            case PATH -> {
                return ScenarioPath.parse(text(name, v));
            }
            case PORT -> {
                if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() > 65535) {
                    throw new MalformedLineException("field '" + name + "' must be a port number from 0 to 65535");
                }
                return v.intValue();
            }
            case LOOPBACK_ADDR -> {
                return LoopbackAddress.parse(text(name, v));
            }
            case BIND_ADDR -> {
                return LoopbackAddress.parseBindable(text(name, v));
            }
            case STRING_ARRAY -> {
                if (!v.isArray()) {
                    throw new MalformedLineException("field '" + name + "' must be an array of strings");
                }
                List<String> out = new ArrayList<>();
                for (JsonNode item : v) {
                    if (!item.isTextual()) {
                        throw new MalformedLineException("field '" + name + "' must be an array of strings");
                    }
                    out.add(item.textValue());
                }
                return List.copyOf(out);
            }
            case OBJECT -> {
                if (!v.isObject()) {
                    throw new MalformedLineException("field '" + name + "' must be an object");
                }
                return v;
            }
        }
        throw new AssertionError(f.kind());
    }

    private static String text(String name, JsonNode v) throws MalformedLineException {
        if (!v.isTextual()) {
            throw new MalformedLineException("field '" + name + "' must be a string");
        }
        return v.textValue();
    }

    /** Scenario hex: digits only (either case), an even number of them; "" is zero bytes. */
    static byte[] hex(String name, String s) throws MalformedLineException {
        if (s.length() % 2 != 0 || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 128)) {
            throw new MalformedLineException("field '" + name + "' is not hex bytes: '" + abbreviate(s) + "'");
        }
        return HexFormat.of().parseHex(s);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    int lineNumber() {
        return lineNumber;
    }

    String op() {
        return spec.name();
    }

    boolean has(String field) {
        return values.containsKey(field);
    }

    String string(String field) {
        return (String) values.get(field);
    }

    Optional<String> optString(String field) {
        return Optional.ofNullable((String) values.get(field));
    }

    int uint(String field) {
        return (Integer) values.get(field);
    }

    Optional<Integer> optUint(String field) {
        return Optional.ofNullable((Integer) values.get(field));
    }

    byte[] bytes(String field) {
        return ((byte[]) values.get(field)).clone();
    }

    ScenarioPath path(String field) {
        return (ScenarioPath) values.get(field);
    }

    LoopbackAddress address(String field) {
        return (LoopbackAddress) values.get(field);
    }

    Optional<LoopbackAddress> optAddress(String field) {
        return Optional.ofNullable((LoopbackAddress) values.get(field));
    }

    Optional<Boolean> optBool(String field) {
        return Optional.ofNullable((Boolean) values.get(field));
    }

    @SuppressWarnings("unchecked")
    List<String> strings(String field) {
        return (List<String>) values.get(field);
    }

    JsonNode object(String field) {
        return (JsonNode) values.get(field);
    }
}
