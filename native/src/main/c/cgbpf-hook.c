/*
 * cgbpf-hook STAGE < state.json: the OCI hook a runtime runs. It hands the request to the
 * resident daemon (`cgbpf daemon`) over a Unix socket and relays its answer; when no daemon
 * answers it execs the JVM hook (`cgbpf hook STAGE`) with the same environment and the same
 * state on stdin. Protocol, fallback rules and environment: docs/hook.md, "cgbpf-hook".
 * Nothing beyond libc.
 */
#define _GNU_SOURCE
#include "cgbpf-client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_STATE (32L << 20)

extern char **environ;

/* forwarded as `env KEY=VALUE` lines, in this order, when present */
static const char *const FORWARDED[] = {
    "CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR", "CGBPF_LOG_FILE", "CGBPF_BACKEND", "CGBPF_ATTACH",
};

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
    fail_prefix = "cgbpf: hook";
    const char *stage = argc == 2 ? argv[1] : "";
    if (strcmp(stage, "createRuntime") && strcmp(stage, "prestart") && strcmp(stage, "poststop")) {
        return fail(2, "usage: cgbpf-hook createRuntime|prestart|poststop < state.json");
    }
    const char *sock = env_or("CGBPF_SOCKET", DEFAULT_SOCKET);
    int timeout_ms = timeout_ms_setting();
    if (timeout_ms < 0) {
        return 1;
    }
    size_t len;
    char *head = request_head(stage, FORWARDED, sizeof FORWARDED / sizeof *FORWARDED, &len);
    if (!head) {
        return 1;
    }

    char *state;
    long n = read_state(&state);
    if (n < 0) {
        return 1;
    }
    int st = talk(sock, head, len, state, (size_t)n, timeout_ms);
    return st == NO_DAEMON ? fallback(sock, stage, state, (size_t)n) : st;
}
