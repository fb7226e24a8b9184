package dev.cgbpf.kernel;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The two libc entry points this module needs. {@code syscall} is variadic in C; declaring it
 * with Java varargs makes JNA call it as a variadic function (the x86-64 ABI wants %al set for
 * those). Arguments are passed as {@code Long} so that every register is fully defined.
 *
 * <p>errno is read with {@link Native#getLastError()} right after the call: JNA saves it in the
 * calling thread before anything else can clobber it.
 */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    long syscall(long number, Object... args);

    int close(int fd);

    int open(String path, int flags);
}
