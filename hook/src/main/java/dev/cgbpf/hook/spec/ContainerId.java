package dev.cgbpf.hook.spec;

import java.util.regex.Pattern;

/**
 * Container ids as runc accepts them (libcontainer's validateID): one or more of
 * {@code [A-Za-z0-9_+,.-]} (runc's class {@code [\w+-\.]} is the range '+'..'.' and so also
 * admits ','), and the id must stay the same when cleaned as a path below '/', which refuses
 * "." and "..". cgbpf adds a length limit of {@link #MAX_LENGTH}, NAME_MAX, because the id
 * becomes one path component (/sys/fs/bpf/cgbpf/ID, /run/cgbpf/ID).
 */
public final class ContainerId {
    public static final int MAX_LENGTH = 255;
    private static final Pattern RUNC_ID = Pattern.compile("[A-Za-z0-9_+,.\\-]+");

    private ContainerId() {
    }

    /** Returns {@code id} when valid; otherwise a one-line error for document {@code what}. */
    public static String validate(String id, String what) throws SpecException {
        if (id == null || id.isEmpty()) {
            throw new SpecException(what + ": field 'id': missing or empty");
        }
        if (id.length() > MAX_LENGTH) {
            throw new SpecException(what + ": field 'id': " + id.length() + " characters, more than " + MAX_LENGTH);
        }
        if (!RUNC_ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            throw new SpecException(what + ": field 'id': " + Printable.quote(id)
                    + " is not a valid container id (allowed: letters, digits, _ + , . -; not . or ..)");
        }
        return id;
    }
}
