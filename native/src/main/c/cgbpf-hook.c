/*
 * cgbpf-hook STAGE < state.json: the OCI hook a runtime runs. It hands the request to the
 * resident daemon (`cgbpf daemon`) over a Unix socket and relays its answer; when no daemon
 * answers it execs the JVM hook (`cgbpf hook STAGE`) with the same environment and the same
 * state on stdin. Protocol, fallback rules and environment: docs/hook.md, "cgbpf-hook".
 * Nothing beyond libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_STATE (32L << 20)
#define DEFAULT_SOCKET "/run/cgbpf/cgbpf.sock"
#define DEFAULT_LAUNCHER "/usr/local/bin/cgbpf"
#define DEFAULT_TIMEOUT_MS 2000
#define NO_DAEMON (-1)

extern char **environ;

/* forwarded as `env KEY=VALUE` lines, in this order, when present */
static const char *const FORWARDED[] = {
    "CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR", "CGBPF_LOG_FILE", "CGBPF_BACKEND", "CGBPF_ATTACH",
};

/* One line on stderr, as the JVM hook prints its errors; returns status. */
__attribute__((format(printf, 2, 3))) static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cgbpf: hook: %s\n", msg);
    return status;
}

static const char *env_or(const char *key, const char *dflt)
{
    const char *v = getenv(key);
    return v && *v ? v : dflt;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* All of stdin, at most MAX_STATE bytes; -1 with one line printed. */
static long read_state(char **out)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fail(1, "out of memory reading the state");
            return -1;
        }
        if (n == cap) { /* at most MAX_STATE + 1: one byte more says "too large" */
            cap = cap * 2 > MAX_STATE + 1 ? MAX_STATE + 1 : cap * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
            }
            buf = b;
            continue;
        }
        ssize_t k = read(0, buf + n, cap - n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            fail(1, "cannot read the state on stdin: %s", strerror(errno));
            return -1;
        }
        if (k == 0) {
            *out = buf;
            return (long)n;
        }
        n += (size_t)k;
        if (n > MAX_STATE) {
            fail(1, "the state on stdin is larger than 32 MiB");
            return -1;
        }
    }
}

/* Sends all of buf before the deadline; -1 on a timeout or a broken connection. */
static int send_all(int fd, const char *buf, size_t n, long long deadline)
{
    while (n > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            return -1;
        }
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One line of the daemon's answer: an exit status, 256 for "go on", or -2 for a protocol error. */
static int answer_line(const char *line, int *accepted)
{
    if (!strcmp(line, "accepted") && !*accepted) {
        *accepted = 1;
    } else if (!strncmp(line, "warning ", 8)) {
        /* the whole line `cgbpf hook STAGE` would print, prefix and all */
        fprintf(stderr, "%s\n", line + 8);
    } else if (!strncmp(line, "error ", 6)) {
        fprintf(stderr, "%s\n", line + 6);
    } else if (!strncmp(line, "exit ", 5)) {
        char *end;
        errno = 0;
        long st = strtol(line + 5, &end, 10);
        return line[5] >= '0' && line[5] <= '9' && !*end && !errno && st <= 255 ? (int)st : -2;
    } else {
        return -2;
    }
    return 256;
}

/*
 * The request to the daemon at path and its answer: the daemon's exit status, or NO_DAEMON when
 * nothing answered before the deadline (no socket, refused, silent, closed without a word).
 */
static int talk(const char *path, const char *head, size_t headlen, const char *state, size_t n, int timeout_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        return NO_DAEMON;
    }
    strcpy(sa.sun_path, path);
    long long deadline = now_ms() + timeout_ms;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return NO_DAEMON;
    }
    /* SO_SNDTIMEO also bounds connect(2) on a Unix socket whose listener's backlog is full */
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return NO_DAEMON;
    }
    char size[40];
    int sl = snprintf(size, sizeof size, "state %zu\n", n);
    /* a send that fails (the daemon closed, or is too slow) still reads what the daemon said */
    if (send_all(fd, head, headlen, deadline) == 0 && send_all(fd, size, (size_t)sl, deadline) == 0) {
        send_all(fd, state, n, deadline);
    }
    shutdown(fd, SHUT_WR);

    char buf[8192];
    size_t len = 0;
    int accepted = 0, answered = 0;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = '\0';
            int st = answer_line(buf, &accepted);
            if (st == -2) {
                close(fd);
                return fail(1, "the cgbpf daemon at %s sent an answer this cgbpf-hook does not understand", path);
            }
            if (st != 256) {
                close(fd);
                return st;
            }
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
        if (len == sizeof buf) {
            close(fd);
            return fail(1, "the cgbpf daemon at %s sent a line longer than %zu bytes", path, sizeof buf);
        }
        if (!accepted) {
            long long left = deadline - now_ms();
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int r = poll(&p, 1, left > 0 ? (int)left : 0);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r == 0 && !answered) {
                close(fd);
                return NO_DAEMON;
            }
            if (r == 0) {
                close(fd);
                return fail(1, "the cgbpf daemon at %s stopped answering (no exit status within %d ms)", path,
                            timeout_ms);
            }
        }
        ssize_t k = recv(fd, buf + len, sizeof buf - len, 0);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0 && !answered) {
            close(fd);
            return NO_DAEMON;
        }
        if (k <= 0) {
            close(fd);
            /* never fall back now: the daemon may have attached half; its next start cleans up */
            return fail(1, "the cgbpf daemon at %s %s and closed the connection without an exit status"
                        " (see its log)", path, accepted ? "accepted the request" : "answered");
        }
        answered = 1;
        len += (size_t)k;
    }
}

/* The JVM hook, LAUNCHER hook STAGE, with this environment and the state on its stdin. */
static int fallback(const char *sock, const char *stage, const char *state, size_t n)
{
    const char *launcher = env_or("CGBPF_LAUNCHER", DEFAULT_LAUNCHER);
    /* memfd: Linux 3.17, older than any kernel with the cgroup-bpf programs cgbpf attaches */
    int fd = memfd_create("cgbpf-state", MFD_CLOEXEC);
    if (fd < 0) {
        return fail(1, "cannot pass the state to %s: %s", launcher, strerror(errno));
    }
    for (size_t off = 0; off < n;) {
        ssize_t k = write(fd, state + off, n - off);
        if (k < 0 && errno != EINTR) {
            return fail(1, "cannot pass the state to %s: %s", launcher, strerror(errno));
        }
        off += k > 0 ? (size_t)k : 0;
    }
    if (lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
        return fail(1, "cannot pass the state to %s: %s", launcher, strerror(errno));
    }
    char *argv[] = {"cgbpf", "hook", (char *)stage, NULL};
    execve(launcher, argv, environ);
    return fail(1, "no cgbpf daemon answered at %s, and %s cannot be run: %s", sock, launcher, strerror(errno));
}

int main(int argc, char **argv)
{
    const char *stage = argc == 2 ? argv[1] : "";
    if (strcmp(stage, "createRuntime") && strcmp(stage, "prestart") && strcmp(stage, "poststop")) {
        return fail(2, "usage: cgbpf-hook createRuntime|prestart|poststop < state.json");
    }
    const char *sock = env_or("CGBPF_SOCKET", DEFAULT_SOCKET);
    const char *t = getenv("CGBPF_HOOK_TIMEOUT_MS");
    int timeout_ms = DEFAULT_TIMEOUT_MS;
    if (t && *t) {
        char *end;
        errno = 0;
        long v = strtol(t, &end, 10);
        if (*end || errno || v < 1 || v > 600000) {
            return fail(1, "CGBPF_HOOK_TIMEOUT_MS must be a number of milliseconds from 1 to 600000");
        }
        timeout_ms = (int)v;
    }

    /* the request's head: version, stage, forwarded settings */
    size_t cap = 64, len;
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) {
        const char *v = getenv(FORWARDED[i]);
        if (v && strchr(v, '\n')) {
            return fail(1, "environment variable %s contains a newline", FORWARDED[i]);
        }
        cap += v ? strlen(FORWARDED[i]) + strlen(v) + 6 : 0;
    }
    char *head = malloc(cap);
    if (!head) {
        return fail(1, "out of memory");
    }
    len = (size_t)sprintf(head, "cgbpf-hook 1 %s\n", stage);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) {
        const char *v = getenv(FORWARDED[i]);
        if (v) {
            len += (size_t)sprintf(head + len, "env %s=%s\n", FORWARDED[i], v);
        }
    }

    char *state;
    long n = read_state(&state);
    if (n < 0) {
        return 1;
    }
    int st = talk(sock, head, len, state, (size_t)n, timeout_ms);
    return st == NO_DAEMON ? fallback(sock, stage, state, (size_t)n) : st;
}
