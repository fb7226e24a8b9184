package dev.cgbpf.kernel;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The libc entry points this module needs. {@code syscall} is variadic in C; declaring it
 * with Java varargs makes JNA call it as a variadic function (the x86-64 ABI wants %al set for
 * those). Arguments are passed as {@code Long} so that every register is fully defined.
 *
 * <p>errno is read with {@link Native#getLastError()} right after the call: JNA saves it in the
 * calling thread before anything else can clobber it. The file and socket calls are here rather
 * than in java.nio because cgbpf reports the kernel's errno by name, and java.nio turns errnos
 * into exception messages.
 *
 * <p>Layouts passed as byte arrays (sockaddr, msghdr, struct statfs) are those of the 64-bit Linux
 * ABIs (x86-64, aarch64, riscv64), the architectures {@link BpfSyscall} knows.
 */
interface LibC extends Library {
    LibC INSTANCE = LibCLoader.load();

    long syscall(long number, Object... args);

    int close(int fd);

    int open(String path, int flags);

    int open(String path, int flags, int mode);

    long write(int fd, byte[] buf, long count);

    int mkdir(String path, int mode);

    int rmdir(String path);

    int unlink(String path);

    int chmod(String path, int mode);

    /** {@code buf} is a struct statfs (120 bytes; f_type, a long, first). */
    int statfs(String path, byte[] buf);

    int mknod(String path, int mode, long dev);

    int access(String path, int mode);

    int mount(String source, String target, String fstype, long flags, String data);

    int umount2(String target, int flags);

    int kill(int pid, int sig);

    int getpid();

    /** {@code mask} is a cpu_set_t of {@code size} bytes; pid 0 is the calling thread. */
    int sched_getaffinity(int pid, long size, byte[] mask);

    int sched_setaffinity(int pid, long size, byte[] mask);

    /** glibc 2.32+: the errno's symbolic name ("EPROTONOSUPPORT"), or null for an unknown number. */
    String strerrorname_np(int errnum);

    int socket(int domain, int type, int protocol);

    int bind(int fd, byte[] addr, int len);

    int connect(int fd, byte[] addr, int len);

    int listen(int fd, int backlog);

    int accept4(int fd, Pointer addr, Pointer len, int flags);

    int getsockname(int fd, byte[] addr, IntByReference len);

    int getpeername(int fd, byte[] addr, IntByReference len);

    int setsockopt(int fd, int level, int name, byte[] value, int len);

    int getsockopt(int fd, int level, int name, byte[] value, IntByReference len);

    long sendmsg(int fd, Pointer msghdr, int flags);

    long recvfrom(int fd, byte[] buf, long len, int flags, byte[] addr, IntByReference addrLen);

    /** {@code fds} is an array of struct pollfd (8 bytes each: int fd, short events, short revents). */
    int poll(byte[] fds, long nfds, int timeoutMs);

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    int munmap(Pointer addr, long length);

    int getpagesize();
}
