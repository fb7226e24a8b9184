/*
 * The daemon client shared by cgbpf-hook (the OCI hook) and cgbpf-runtime (the runtime shim):
 * one request over the daemon's Unix socket and its answer (docs/daemon.md, "The protocol").
 * Nothing beyond libc.
 */
#ifndef CGBPF_CLIENT_H
#define CGBPF_CLIENT_H

#include <stddef.h>

#define DEFAULT_SOCKET "/run/cgbpf/cgbpf.sock"
#define DEFAULT_LAUNCHER "/usr/local/bin/cgbpf"
#define DEFAULT_TIMEOUT_MS 2000
/* talk(): nothing answered (no socket, refused, silent, closed without a word) */
#define NO_DAEMON (-1)

/* what fail() puts before its message: "cgbpf: hook" or "cgbpf-runtime" */
extern const char *fail_prefix;

/* One line on stderr, "PREFIX: message"; returns status. */
__attribute__((format(printf, 2, 3))) int fail(int status, const char *fmt, ...);

/* The variable's value, or dflt when it is unset or empty. */
const char *env_or(const char *key, const char *dflt);

/* CGBPF_HOOK_TIMEOUT_MS, or the default; -1 with one line printed when it is not a number of 1..600000. */
int timeout_ms_setting(void);

/*
 * "cgbpf-hook 1 KIND\n" and an "env KEY=VALUE\n" line for each of keys that is set, in a new
 * buffer whose length goes to *len; NULL with one line printed (a value with a newline, no memory).
 */
char *request_head(const char *kind, const char *const *keys, size_t nkeys, size_t *len);

/*
 * The request (head, "state N\n", the N bytes of body) to the daemon at path, and its answer:
 * warning and error lines printed on stderr, the daemon's exit status returned, or NO_DAEMON.
 */
int talk(const char *path, const char *head, size_t headlen, const char *body, size_t n, int timeout_ms);

#endif
