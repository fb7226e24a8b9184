package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import java.util.HexFormat;

/**
 * What one backend call answered, in the form the differential tests compare across backends:
 * "ok" (a map it made is closed again), a returned value (bytes in hex), or the errno.
 */
final class BpfAnswer {
    private static final HexFormat HEX = HexFormat.of();

    /** A backend call; null or a map for calls without a value to compare. */
    interface Call {
        Object run() throws BpfException;
    }

    private BpfAnswer() {
    }

    static String of(Call c) {
        try {
            Object o = c.run();
            if (o instanceof BpfMap m) {
                m.close();
                return "ok";
            }
            return o == null ? "ok" : o instanceof byte[] b ? HEX.formatHex(b) : String.valueOf(o);
        } catch (BpfException e) {
            return e.errno();
        }
    }
}
