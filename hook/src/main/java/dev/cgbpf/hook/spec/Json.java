package dev.cgbpf.hook.spec;

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
        T value = RecordJson.PLAIN.read(bytes, type, what);
        if (value == null) {
            throw new SpecException(what + ": the document is null, expected an object");
        }
        return value;
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
}
