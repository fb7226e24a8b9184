package dev.cgbpf.engine.verifier;

/**
 * check_reg_arg: register numbers must exist, a register read must have been written, and R10
 * (the frame pointer) is never written.
 */
final class CheckRegArg {
    private CheckRegArg() {
    }

    static void checkRegNo(int r) throws VerifierError {
        if (r > 10) {
            throw VerifierError.einval("R" + r + " is invalid");
        }
    }

    static void checkRegRead(VerifierState st, int r) throws VerifierError {
        checkRegNo(r);
        if (!st.regs[r].isInit()) {
            throw VerifierError.eacces("R" + r + " !read_ok");
        }
    }

    static void checkRegWrite(int r) throws VerifierError {
        checkRegNo(r);
        if (r == 10) {
            throw VerifierError.eacces("frame pointer is read only");
        }
    }
}
