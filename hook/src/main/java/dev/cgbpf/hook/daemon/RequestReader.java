package dev.cgbpf.hook.daemon;

import dev.cgbpf.hook.spec.Printable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

/**
 * Reads one request off a connection, strictly: every line as {@link Protocol} says, the state
 * exactly as long as announced, and nothing after it. Any deviation is a {@link Malformed} with
 * one line that says what was wrong.
 */
final class RequestReader {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern LENGTH = Pattern.compile("0|[1-9][0-9]*");

    /** A request that does not follow the protocol; the message is the answer's error line. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super("request: " + message, null, false, false);
        }
    }

    /**
     * The request up to its state.
     *
     * @param stage the STAGE word as sent (checked by the caller)
     * @param env the recognised settings, in the order sent (a repeated key: the last one)
     * @param stateLength the announced state length, or -1 when there is no state line ({@code status})
     */
    record Head(String stage, Map<String, String> env, int stateLength) {
        boolean isStatus() {
            return Protocol.STATUS.equals(stage);
        }

        boolean isEvents() {
            return Protocol.EVENTS.equals(stage);
        }
    }

    private final ReadableByteChannel in;
    private final BooleanSupplier timedOut;
    private final ByteBuffer buf = ByteBuffer.allocate(Protocol.MAX_LINE);
    private final ByteBuffer line = ByteBuffer.allocate(Protocol.MAX_LINE - 1);
    private long consumed;

    /** @param timedOut true once the read deadline passed (the watchdog then shuts the input down: EOF) */
    RequestReader(ReadableByteChannel in, BooleanSupplier timedOut) {
        this.in = in;
        this.timedOut = timedOut;
        buf.flip();
    }

    /**
     * The header, the env lines and the state line.
     *
     * @param maxState the longest state this daemon takes
     */
    Head readHead(int maxState) throws Malformed, IOException {
        String first = readLine(true);
        if (first == null) {
            throw new Malformed("empty (expected '" + Protocol.MAGIC + " " + Protocol.VERSION + " STAGE')");
        }
        String[] words = first.split(" ", -1);
        if (words.length < 2 || !words[0].equals(Protocol.MAGIC)) {
            throw new Malformed("does not start with '" + Protocol.MAGIC + " " + Protocol.VERSION + " STAGE' (got "
                    + Printable.quote(first) + ")");
        }
        if (!words[1].equals(Protocol.VERSION)) {
            throw new Malformed("protocol version " + Printable.quote(words[1]) + " (this daemon speaks "
                    + Protocol.VERSION + ")");
        }
        if (words.length != 3 || words[2].isEmpty()) {
            throw new Malformed("the first line must be '" + Protocol.MAGIC + " " + Protocol.VERSION
                    + " STAGE' (got " + Printable.quote(first) + ")");
        }
        String stage = words[2];
        Map<String, String> env = new LinkedHashMap<>();
        int envLines = 0;
        for (String line; (line = readLine(false)) != null; ) {
            if (line.startsWith("env ")) {
                if (++envLines > Protocol.MAX_ENV_LINES) {
                    throw new Malformed("more than " + Protocol.MAX_ENV_LINES + " env lines");
                }
                String kv = line.substring(4);
                int eq = kv.indexOf('=');
                if (eq <= 0 || !KEY.matcher(kv.substring(0, eq)).matches()) {
                    throw new Malformed("env line " + Printable.quote(line) + " is not 'env KEY=VALUE'");
                }
                String key = kv.substring(0, eq);
                if (Protocol.ENV_KEYS.contains(key) || Protocol.BUNDLE.equals(stage) && Protocol.CLIENT_KEYS.contains(key)) {
                    env.remove(key);
                    env.put(key, kv.substring(eq + 1));
                }
            } else if (line.startsWith("state ")) {
                String n = line.substring(6);
                if (!LENGTH.matcher(n).matches()) {
                    throw new Malformed("state line " + Printable.quote(line) + " is not 'state N' (N in decimal)");
                }
                if (n.length() > 18 || Long.parseLong(n) > maxState) {
                    throw new Malformed("state of " + Printable.quote(n).replace("'", "") + " bytes, more than the"
                            + " limit of " + maxState);
                }
                long len = Long.parseLong(n);
                if (Protocol.takesNoState(stage)) {
                    throw new Malformed(stage + " takes no state");
                }
                return new Head(stage, env, (int) len);
            } else {
                throw new Malformed("unexpected line " + Printable.quote(line)
                        + " (expected 'env KEY=VALUE' or 'state N')");
            }
        }
        if (!Protocol.takesNoState(stage)) {
            throw new Malformed(timedOut.getAsBoolean() ? notInTime() : "ends before its 'state N' line");
        }
        return new Head(stage, env, -1);
    }

    /** The state: exactly {@code n} bytes, then the end of the request. */
    byte[] readState(int n) throws Malformed, IOException {
        byte[] state = new byte[n];
        int got = 0;
        while (got < n) {
            if (!buf.hasRemaining() && !fill()) {
                throw new Malformed(timedOut.getAsBoolean() ? notInTime()
                        : "state announced " + n + " bytes, " + got + " came");
            }
            int k = Math.min(n - got, buf.remaining());
            buf.get(state, got, k);
            got += k;
        }
        expectEnd();
        return state;
    }

    /** Nothing may follow: the client shuts down its write side after the request. */
    void expectEnd() throws Malformed, IOException {
        if (buf.hasRemaining() || fill()) {
            throw new Malformed("bytes after the end of the request (a state longer than announced?)");
        }
        if (timedOut.getAsBoolean()) {
            throw new Malformed(notInTime());
        }
    }

    /** Reads and discards up to {@code max} more bytes, so that closing does not reset the client's connection. */
    void drain(long max) {
        try {
            long n = buf.remaining();
            buf.position(buf.limit());
            while (n < max && fill()) {
                n += buf.remaining();
                buf.position(buf.limit());
            }
        } catch (IOException e) {
            // gone already
        }
    }

    private static String notInTime() {
        return "not complete in time (the client must shut down its write side after the state)";
    }

    /** One line without its newline; null at the end of the request (only where a line may start). */
    private String readLine(boolean first) throws Malformed, IOException {
        line.clear();
        while (true) {
            if (!buf.hasRemaining() && !fill()) {
                if (line.position() == 0) {
                    return null;
                }
                throw new Malformed(timedOut.getAsBoolean() ? notInTime() : "ends in the middle of a line");
            }
            byte b = buf.get();
            if (b == '\n') {
                break;
            }
            if (!line.hasRemaining()) {
                throw new Malformed("a line longer than " + Protocol.MAX_LINE + " bytes");
            }
            line.put(b);
        }
        line.flip();
        String s;
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(line);
            s = cb.toString();
        } catch (CharacterCodingException e) {
            throw new Malformed("a line that is not UTF-8" + (first ? " (is this a cgbpf-hook client?)" : ""));
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new Malformed("a control character in line " + Printable.quote(s)
                        + (c == '\r' ? " (lines end in \\n alone)" : ""));
            }
        }
        return s;
    }

    /** Refills the buffer; false at the end of the input. */
    private boolean fill() throws IOException {
        buf.clear();
        int n;
        try {
            do {
                n = in.read(buf);
            } while (n == 0);
        } finally {
            buf.flip();
        }
        if (n > 0) {
            consumed += n;
        }
        return n > 0;
    }

    /** Bytes read off the connection so far. */
    long consumed() {
        return consumed;
    }
}
