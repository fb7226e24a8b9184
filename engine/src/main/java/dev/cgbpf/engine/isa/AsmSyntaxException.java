package dev.cgbpf.engine.isa;

/** An assembly line that does not parse: {@code line L col C: reason}, both counted from 1. */
public class AsmSyntaxException extends IllegalArgumentException {
    private final int line;
    private final int column;
    private final String reason;

    public AsmSyntaxException(int line, int column, String reason) {
        super("line " + line + " col " + column + ": " + reason);
        this.line = line;
        this.column = column;
        this.reason = reason;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    /** The message without the position. */
    public String reason() {
        return reason;
    }
}
