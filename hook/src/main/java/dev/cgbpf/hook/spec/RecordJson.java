package dev.cgbpf.hook.spec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * JSON to Java records and back, on Jackson's streaming parser and generator alone.
 *
 * <p>Why not Jackson's databind: a hook stage without the daemon is a JVM of its own per
 * container start, and building an {@code ObjectMapper} and introspecting the records cost ~60 ms
 * of a ~250 ms stage on this kind of VM (docs/perf.md, "the JVM hook"), more than the hook's
 * kernel work. The documents the hook reads have few shapes: records whose components are
 * strings, booleans, integers, lists, string maps and other records. This reads exactly those,
 * with the rules {@link Json} promises: unknown fields are skipped; a number or boolean where a
 * string belongs, a string or fraction where an integer belongs, and null for a primitive are
 * errors; duplicate keys and trailing tokens are errors (the parser's own checks). An error names
 * the field's path ({@code linux.resources.devices[2].major}) and never quotes the input.
 *
 * <p>Types other than those are given as {@linkplain #withText text values}: a string in the
 * document, converted by the caller's functions (an attach type by its scenario name).
 */
public final class RecordJson {
    /** Nesting deeper than this is refused (the parser counts it too). */
    static final int MAX_DEPTH = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(Json.MAX_DOCUMENT_BYTES)
                    .build())
            .build();

    /** How a type that is a string in JSON is read and written. */
    public record TextValue<T>(Class<T> type, Function<String, T> parse, Function<T, String> format) {
    }

    /** The plain codec: records, strings, numbers, booleans, lists and maps of strings. */
    public static final RecordJson PLAIN = new RecordJson(Map.of());

    private final Map<Class<?>, TextValue<?>> textValues;
    private final Map<Class<?>, Shape> shapes = new HashMap<>();

    private RecordJson(Map<Class<?>, TextValue<?>> textValues) {
        this.textValues = Map.copyOf(textValues);
    }

    /** A codec that also knows {@code value}'s type, as text. */
    public RecordJson withText(TextValue<?> value) {
        Map<Class<?>, TextValue<?>> m = new HashMap<>(textValues);
        m.put(value.type(), value);
        return new RecordJson(m);
    }

    /** A record type's components and canonical constructor, found once. */
    private record Shape(RecordComponent[] components, Constructor<?> constructor, Map<String, Integer> index) {
    }

    private synchronized Shape shape(Class<?> type) {
        return shapes.computeIfAbsent(type, t -> {
            RecordComponent[] c = t.getRecordComponents();
            Class<?>[] types = new Class<?>[c.length];
            Map<String, Integer> index = new HashMap<>();
            for (int i = 0; i < c.length; i++) {
                types[i] = c[i].getType();
                index.put(c[i].getName(), i);
            }
            try {
                Constructor<?> k = t.getDeclaredConstructor(types);
                k.setAccessible(true);
                return new Shape(c, k, index);
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(t + " has no canonical constructor", e);
            }
        });
    }

    /** An error at a path; turned into one line by {@link #read}. */
    private static final class Bad extends Exception {
        final JsonLocation at;

        Bad(String message, JsonLocation at) {
            super(message, null, false, false);
            this.at = at;
        }
    }

    /**
     * Parses {@code bytes} into a {@code type}, a record; {@code what} names the document in
     * errors. A document that is JSON null gives null.
     */
    public <T> T read(byte[] bytes, Class<T> type, String what) throws SpecException {
        Deque<String> path = new ArrayDeque<>();
        try (JsonParser p = FACTORY.createParser(bytes)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new SpecException(what + ": empty document");
            }
            Object value = value(p, type, type, path);
            if (p.nextToken() != null) {
                throw new SpecException(what + ": malformed JSON: trailing content after the document"
                        + at(p.currentTokenLocation()));
            }
            return type.cast(value);
        } catch (Bad e) {
            throw new SpecException(what + ": " + field(path) + e.getMessage() + at(e.at));
        } catch (StreamConstraintsException e) {
            throw new SpecException(what + ": " + field(path) + "nested deeper than " + MAX_DEPTH
                    + " levels, or a value longer than the document limit");
        } catch (JsonParseException e) {
            // the parser's message quotes the offending token: say only where, never the input
            String kind = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                    ? "duplicate field" : "syntax error";
            JsonLocation l = e.getLocation();
            throw new SpecException(what + ": malformed JSON: " + kind + (l != null && l.getLineNr() > 0
                    ? " at line " + l.getLineNr() + ", column " + l.getColumnNr() : ""));
        } catch (IOException e) {
            throw new SpecException(what + ": " + e.getMessage());
        }
    }

    private static String field(Deque<String> path) {
        if (path.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        java.util.Iterator<String> it = path.descendingIterator();
        while (it.hasNext()) {
            String s = it.next();
            if (!s.startsWith("[") && b.length() > 0) {
                b.append('.');
            }
            b.append(s);
        }
        return "field '" + b + "': ";
    }

    private static String at(JsonLocation l) {
        return l != null && l.getLineNr() > 0 ? " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")" : "";
    }

    /** The value at the parser's current token, as {@code type} (whose generic form is {@code generic}). */
    private Object value(JsonParser p, Class<?> type, Type generic, Deque<String> path) throws IOException, Bad {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            if (type.isPrimitive()) {
                throw new Bad("null where " + describe(type) + " belongs", p.currentTokenLocation());
            }
            return null;
        }
        if (type == String.class) {
            return string(p, type);
        }
        if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw mismatch(p, type);
            }
            if (type == Long.class || type == long.class) {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw new Bad("a number out of the range of a 64-bit integer", p.currentTokenLocation());
                }
                return p.getLongValue();
            }
            if (p.getNumberType() != JsonParser.NumberType.INT) {
                throw new Bad("a number out of the range of a 32-bit integer", p.currentTokenLocation());
            }
            return p.getIntValue();
        }
        if (type == Boolean.class || type == boolean.class) {
            if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                throw mismatch(p, type);
            }
            return t == JsonToken.VALUE_TRUE;
        }
        TextValue<?> text = textValues.get(type);
        if (text != null) {
            String s = string(p, type);
            try {
                return text.parse().apply(s);
            } catch (IllegalArgumentException e) {
                throw new Bad(e.getMessage(), p.currentTokenLocation());
            }
        }
        if (type == List.class) {
            if (t != JsonToken.START_ARRAY) {
                throw mismatch(p, type);
            }
            Type element = ((ParameterizedType) generic).getActualTypeArguments()[0];
            List<Object> out = new ArrayList<>();
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                path.push("[" + i++ + "]");
                out.add(value(p, raw(element), element, path));
                path.pop();
            }
            // read-only: a record read once may be handed out again (the hook's record cache)
            return Collections.unmodifiableList(out);
        }
        if (type == Map.class) {
            Type[] kv = ((ParameterizedType) generic).getActualTypeArguments();
            if (kv[0] != String.class) {
                throw new IllegalStateException("map keys other than strings: " + generic);
            }
            if (t != JsonToken.START_OBJECT) {
                throw mismatch(p, type);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                path.push(key);
                out.put(key, value(p, raw(kv[1]), kv[1], path));
                path.pop();
            }
            return out;
        }
        if (type.isRecord()) {
            if (t != JsonToken.START_OBJECT) {
                throw mismatch(p, type);
            }
            return record(p, type, path);
        }
        throw new IllegalStateException("no JSON form for " + generic);
    }

    private Object record(JsonParser p, Class<?> type, Deque<String> path) throws IOException, Bad {
        Shape s = shape(type);
        Object[] args = new Object[s.components().length];
        for (int i = 0; i < args.length; i++) {
            args[i] = defaultOf(s.components()[i].getType());
        }
        JsonLocation start = p.currentTokenLocation();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            Integer i = s.index().get(name);
            if (i == null) {
                // a field this version does not know: the runtime-spec grows
                p.skipChildren();
                continue;
            }
            RecordComponent c = s.components()[i];
            path.push(name);
            args[i] = value(p, c.getType(), c.getGenericType(), path);
            path.pop();
        }
        try {
            return s.constructor().newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) {
                throw new Bad("not a valid " + type.getSimpleName() + ": " + cause.getMessage(), start);
            }
            throw new IllegalStateException("constructing " + type.getName(), cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("constructing " + type.getName(), e);
        }
    }

    private static Object defaultOf(Class<?> type) {
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        if (type == boolean.class) {
            return false;
        }
        return null;
    }

    private static String string(JsonParser p, Class<?> type) throws IOException, Bad {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw mismatch(p, type);
        }
        return p.getText();
    }

    private static Bad mismatch(JsonParser p, Class<?> type) {
        return new Bad("expected " + describe(type) + ", got " + describe(p.currentToken()), p.currentTokenLocation());
    }

    private static String describe(Class<?> type) {
        if (type == String.class) {
            return "a string";
        }
        if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == List.class) {
            return "an array";
        }
        if (type.isPrimitive()) {
            return "a " + type.getName();
        }
        return type.isRecord() || type == Map.class ? "an object" : "a string";
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a fraction";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            default -> t.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) {
            return c;
        }
        if (t instanceof ParameterizedType pt) {
            return (Class<?>) pt.getRawType();
        }
        throw new IllegalStateException("no JSON form for " + t);
    }

    // ---- writing ----

    /**
     * {@code value}, a record, as indented JSON (two spaces, Jackson's default pretty printer), with
     * a final newline; components that are null are left out.
     */
    public byte[] write(Record value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            write(g, value);
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory", e);
        }
        out.write('\n');
        return out.toByteArray();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Integer i) {
            g.writeNumber(i);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof List<?> list) {
            g.writeStartArray();
            for (Object e : list) {
                write(g, e);
            }
            g.writeEndArray();
        } else if (v instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName((String) e.getKey());
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Record r) {
            Shape s = shape(r.getClass());
            g.writeStartObject();
            for (RecordComponent c : s.components()) {
                Object cv;
                try {
                    java.lang.reflect.Method m = c.getAccessor();
                    m.setAccessible(true);
                    cv = m.invoke(r);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("reading " + c, e);
                }
                // a null component is left out: a missing field reads back as null
                if (cv != null) {
                    g.writeFieldName(c.getName());
                    write(g, cv);
                }
            }
            g.writeEndObject();
        } else {
            Class<?> k = v instanceof Enum<?> e ? e.getDeclaringClass() : v.getClass();
            TextValue text = textValues.get(k);
            if (text == null) {
                throw new IllegalStateException("no JSON form for " + v.getClass());
            }
            g.writeString((String) text.format().apply(v));
        }
    }
}
