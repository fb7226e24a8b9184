package dev.cgbpf.engine.backend;

/**
 * The one error type of every backend: the errno the kernel returns (or would return) for the
 * call, and for program loads the verifier log.
 */
public class BpfException extends Exception {
    private final String errno;
    private final String verifierLog;

    public BpfException(Errno errno, String message) {
        this(errno.name(), message, null);
    }

    public BpfException(Errno errno, String message, String verifierLog) {
        this(errno.name(), message, verifierLog);
    }

    /** For an errno number the {@link Errno} table does not name: the name is {@code errno N}. */
    public BpfException(String errnoName, String message, String verifierLog) {
        super(errnoName + ": " + message);
        this.errno = errnoName;
        this.verifierLog = verifierLog;
    }

    public static BpfException ofNumber(int number, String message, String verifierLog) {
        String name = Errno.of(number).map(Enum::name).orElse("errno " + number);
        return new BpfException(name, message, verifierLog);
    }

    /** The symbolic errno name, e.g. {@code EACCES}. */
    public String errno() {
        return errno;
    }

    /** The verifier log of a failed load, or null. */
    public String verifierLog() {
        return verifierLog;
    }

    /**
     * The reason line of a verifier log as the scenario format prints it: the last non-empty
     * line that is not the closing {@code processed N insns} statistics.
     */
    public String logReason() {
        if (verifierLog == null) {
            return null;
        }
        String[] lines = verifierLog.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String line = lines[i].strip();
            if (!line.isEmpty() && !line.startsWith("processed ")) {
                return line;
            }
        }
        return null;
    }
}
