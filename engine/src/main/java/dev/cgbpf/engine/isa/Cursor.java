package dev.cgbpf.engine.isa;

import java.math.BigInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The assembler's view of one source line: a position in it, and the lexical questions the
 * grammar asks (whitespace, a pattern or a character next, a number); every syntax error it
 * raises names the line and column.
 */
final class Cursor {
    final int line;
    final String s;
    int pos;

    Cursor(int line, String s) {
        this.line = line;
        this.s = s;
        ws();
    }

    int col() {
        return pos + 1;
    }

    void ws() {
        while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
            pos++;
        }
    }

    boolean atEnd() {
        ws();
        return pos >= s.length();
    }

    String rest() {
        return s.substring(pos).strip();
    }

    boolean peek(char ch) {
        ws();
        return pos < s.length() && s.charAt(pos) == ch;
    }

    boolean peekAt(int ahead, char a, char b) {
        int p = pos + ahead;
        return p < s.length() && (s.charAt(p) == a || s.charAt(p) == b);
    }

    boolean peekMatches(Pattern p) {
        ws();
        return p.matcher(s).region(pos, s.length()).lookingAt();
    }

    /** The identifier at the cursor, or "" (not consumed). */
    String peekWord() {
        ws();
        Matcher m = Assembler.IDENT.matcher(s).region(pos, s.length());
        return m.lookingAt() ? m.group() : "";
    }

    /** Consumes the identifier {@code w} if it is the next word. */
    boolean word(String w) {
        if (peekWord().equals(w)) {
            pos += w.length();
            return true;
        }
        return false;
    }

    void word() {
        pos += peekWord().length();
    }

    void expectWord(String w) {
        if (!word(w)) {
            throw err("expected '" + w + "'");
        }
    }

    boolean eat(String lit) {
        ws();
        if (s.startsWith(lit, pos)) {
            pos += lit.length();
            return true;
        }
        return false;
    }

    void expect(String lit) {
        if (!eat(lit)) {
            throw err("expected '" + lit + "'" + (atEnd() ? " at the end of the line" : ", found '" + rest() + "'"));
        }
    }

    Matcher matcher(Pattern p) {
        ws();
        Matcher m = p.matcher(s).region(pos, s.length());
        if (!m.lookingAt()) {
            return null;
        }
        pos = m.end();
        return m;
    }

    String match(Pattern p) {
        Matcher m = matcher(p);
        return m == null ? null : m.group();
    }

    /** Everything up to (not including) {@code end}, stripped; the cursor stops at {@code end}. */
    String until(char end) {
        int e = s.indexOf(end, pos);
        if (e < 0) {
            throw err("expected '" + end + "'");
        }
        String out = s.substring(pos, e).strip();
        pos = e;
        return out;
    }

    BigInteger number() {
        ws();
        int col = col();
        String n = match(Assembler.NUMBER);
        if (n == null) {
            throw errAt(col, atEnd() ? "expected a number at the end of the line" : "expected a number, found '" + rest() + "'");
        }
        boolean neg = n.startsWith("-");
        String digits = neg ? n.substring(1) : n;
        BigInteger v = digits.startsWith("0x") || digits.startsWith("0X")
                ? new BigInteger(digits.substring(2), 16) : new BigInteger(digits);
        return neg ? v.negate() : v;
    }

    /** A number in [min, max], as the 32-bit pattern of its low bits. */
    int imm32(BigInteger min, BigInteger max, String what) {
        ws();
        int col = col();
        return (int) range(number(), min, max, col, what);
    }

    long range(BigInteger v, BigInteger min, BigInteger max, int col, String what) {
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            throw errAt(col, what + " " + v + " is out of range [" + min + ", " + hexIfBig(max) + "]");
        }
        return v.longValue();
    }

    private static String hexIfBig(BigInteger max) {
        return max.bitLength() > 31 ? "0x" + max.toString(16) : max.toString();
    }

    AsmSyntaxException err(String reason) {
        ws();
        return errAt(col(), reason);
    }

    AsmSyntaxException errAt(int col, String reason) {
        return new AsmSyntaxException(line, col, reason);
    }
}
