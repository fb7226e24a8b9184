package dev.cgbpf.hook.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The one JSON reader of the OCI documents and the host policy: tolerant of fields it does not
 * know (the runtime-spec grows), strict about everything else: duplicate keys are refused (two
 * "devices" keys would let a reader and the runtime see different rules), as are trailing tokens,
 * documents beyond {@link #MAX_DOCUMENT_BYTES}, and numbers where strings belong. Every failure
 * becomes one line naming the document and the JSON path of the field.
 */
public final class Json {
    /** Largest document read: far above any real config.json, small enough not to exhaust a hook's heap. */
    public static final int MAX_DOCUMENT_BYTES = 32 << 20;

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true)
            .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false)
            .configure(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS, false)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        // a number or boolean where the spec says string is an error, not silently text
        for (CoercionInputShape shape : new CoercionInputShape[] {CoercionInputShape.Integer,
                CoercionInputShape.Float, CoercionInputShape.Boolean}) {
            MAPPER.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64)
                .maxStringLength(MAX_DOCUMENT_BYTES)
                .build());
    }

    private Json() {
    }

    /** Parses {@code bytes} as {@code type}; {@code what} names the document in errors ("state", "config.json"). */
    public static <T> T parse(byte[] bytes, Class<T> type, String what) throws SpecException {
        if (bytes.length > MAX_DOCUMENT_BYTES) {
            throw new SpecException(what + ": " + bytes.length + " bytes, more than the limit of " + MAX_DOCUMENT_BYTES);
        }
        if (bytes.length == 0 || new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            throw new SpecException(what + ": empty document");
        }
        try {
            T value = MAPPER.readValue(bytes, type);
            if (value == null) {
                throw new SpecException(what + ": the document is null, expected an object");
            }
            return value;
        } catch (JsonMappingException e) {
            throw new SpecException(what + ": " + fieldOf(e) + brief(e));
        } catch (JsonProcessingException e) {
            // Jackson's text quotes the offending token: never echo input (it may be a secret
            // file a symbolic link pointed at), only where it went wrong
            throw new SpecException(what + ": malformed JSON: " + where(e));
        } catch (IOException e) {
            throw new SpecException(what + ": " + e.getMessage());
        }
    }

    /** Reads and parses a file; a missing or unreadable file is a one-line error too. */
    public static <T> T read(Path file, Class<T> type, String what) throws SpecException {
        return parse(readBytes(file, what), type, what);
    }

    /** The file's bytes, refusing non-regular files and files beyond the size limit before reading them. */
    public static byte[] readBytes(Path file, String what) throws SpecException {
        try {
            if (!Files.isRegularFile(file)) {
                throw new SpecException(what + ": " + file + " is " + (Files.exists(file) ? "not a regular file" : "missing"));
            }
            long size = Files.size(file);
            if (size > MAX_DOCUMENT_BYTES) {
                throw new SpecException(what + ": " + file + " has " + size + " bytes, more than the limit of " + MAX_DOCUMENT_BYTES);
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new SpecException(what + ": " + file + " is missing");
        } catch (IOException e) {
            throw new SpecException(what + ": cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Reads at most the limit from a stream (the runtime's stdin). */
    public static byte[] readLimited(InputStream in, String what) throws SpecException {
        try {
            byte[] b = in.readNBytes(MAX_DOCUMENT_BYTES + 1);
            if (b.length > MAX_DOCUMENT_BYTES) {
                throw new SpecException(what + ": more than the limit of " + MAX_DOCUMENT_BYTES + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new SpecException(what + ": cannot read: " + e.getMessage());
        }
    }

    /** "field 'linux.resources.devices[2].major': " from Jackson's reference path. */
    static String fieldOf(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (b.length() > 0) {
                    b.append('.');
                }
                b.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.length() == 0 ? "" : "field '" + b + "': ";
    }

    /** Where a syntax error is, without any of the input. */
    static String where(JsonProcessingException e) {
        String what = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                ? "duplicate field" : "syntax error";
        if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
            return what + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        }
        return what;
    }

    /**
     * Jackson's message without the source excerpt and location lines, without class names, and
     * without quoted input values (only the types and the field path say what was wrong).
     */
    static String brief(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            m = e.getClass().getSimpleName();
        }
        m = m.replace('\n', ' ').replace('\r', ' ');
        int cut = m.indexOf(" at [Source");
        if (cut >= 0) {
            m = m.substring(0, cut);
        }
        m = m.replaceAll("(`)?(java\\.lang\\.|java\\.util\\.|dev\\.cgbpf\\.hook\\.spec\\.)", "$1");
        m = m.replaceAll("\\('[^']*'\\)|\"[^\"]*\"|'[^']*'", "(...)");
        if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
            m = m + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        }
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }

}
