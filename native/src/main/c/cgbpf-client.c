/*
 * The daemon client of cgbpf-hook and cgbpf-runtime: one request over the daemon's Unix socket
 * and its answer. Protocol: docs/daemon.md. Nothing beyond libc.
 */
#define _GNU_SOURCE
#include "cgbpf-client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

const char *fail_prefix = "cgbpf";

/* One line on stderr, as the JVM hook prints its errors; returns status. */
int fail(int status, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", fail_prefix, msg);
    return status;
}

const char *env_or(const char *key, const char *dflt)
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
int talk(const char *path, const char *head, size_t headlen, const char *state, size_t n, int timeout_ms)
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


int timeout_ms_setting(void)
{
    const char *t = getenv("CGBPF_HOOK_TIMEOUT_MS");
    if (!t || !*t) {
        return DEFAULT_TIMEOUT_MS;
    }
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (*end || errno || v < 1 || v > 600000) {
        fail(1, "CGBPF_HOOK_TIMEOUT_MS must be a number of milliseconds from 1 to 600000");
        return -1;
    }
    return (int)v;
}

char *request_head(const char *kind, const char *const *keys, size_t nkeys, size_t *len)
{
    size_t cap = 64 + strlen(kind);
    for (size_t i = 0; i < nkeys; i++) {
        const char *v = getenv(keys[i]);
        if (v && strchr(v, '\n')) {
            fail(1, "environment variable %s contains a newline", keys[i]);
            return NULL;
        }
        cap += v ? strlen(keys[i]) + strlen(v) + 6 : 0;
    }
    char *head = malloc(cap);
    if (!head) {
        fail(1, "out of memory");
        return NULL;
    }
    *len = (size_t)sprintf(head, "cgbpf-hook 1 %s\n", kind);
    for (size_t i = 0; i < nkeys; i++) {
        const char *v = getenv(keys[i]);
        if (v) {
            *len += (size_t)sprintf(head + *len, "env %s=%s\n", keys[i], v);
        }
    }
    return head;
}
