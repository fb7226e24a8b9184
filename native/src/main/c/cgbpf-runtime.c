/*
 * cgbpf-runtime: an OCI runtime shim, a drop-in for runc. For `create` and `run` it has the
 * cgbpf hook stages added to the bundle's config.json when cgbpf's policy applies to the
 * container (a dev.cgbpf.* setting, or appliesTo "all" in the host policy), then execs the real
 * runtime with the same arguments; every other subcommand goes straight to the real runtime.
 * The edit is the daemon's (request `cgbpf-hook 1 bundle`, the bundle's path as the body), or,
 * when no daemon answers, the JVM's (`cgbpf runtime-edit --bundle DIR`). Fail closed: an edit
 * that was needed and failed stops the container. docs/runtimes.md has the details.
 * Nothing beyond libc.
 */
#define _GNU_SOURCE
#include "cgbpf-client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_POLICY "/etc/cgbpf/policy.json"
#define MAX_FILE (4L << 20)

extern char **environ;

/* the settings sent with the request; the edit writes those that are set into the hook entries */
static const char *const FORWARDED[] = {
    "CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR", "CGBPF_LOG_FILE", "CGBPF_BACKEND", "CGBPF_ATTACH",
    "CGBPF_SOCKET", "CGBPF_LAUNCHER", "CGBPF_HOOK_TIMEOUT_MS", "CGBPF_HOOK",
};

/* runc's and crun's global options that take a value ("--root DIR"); the others are flags */
static const char *const GLOBAL_VALUED[] = {
    "--root", "--log", "--log-format", "--log-level", "--criu", "--rootless", "--cgroup-manager",
};

/* The whole file (NUL-terminated, at most MAX_FILE bytes), or NULL with errno set. */
static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t k = 1; buf && k > 0;) {
        if (n == cap) {
            int full = cap >= (size_t)MAX_FILE;
            char *b = full ? NULL : realloc(buf, (cap *= 2) + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                errno = full ? EFBIG : ENOMEM;
                break;
            }
            buf = b;
        }
        k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) {
            k = 1;
        } else if (k < 0) {
            free(buf);
            buf = NULL;
        } else {
            n += (size_t)k;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    if (buf) {
        buf[n] = '\0';
    }
    return buf;
}

/* Skips JSON white space. */
static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

/* Past the string starting at p (on its quote); NULL when unterminated. */
static const char *skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && !*++p) {
            return NULL;
        }
    }
    return *p ? p + 1 : NULL;
}

/* Past the value at p: a string, or anything up to the ',' or '}' or ']' ending it at its depth. */
static const char *skip_value(const char *p)
{
    int depth = 0;
    while (p && *p) {
        if (*p == '"') {
            p = skip_string(p);
            continue;
        }
        if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth-- == 0) {
                return p;
            }
        } else if (*p == ',' && depth == 0) {
            return p;
        }
        p++;
    }
    return NULL;
}

/*
 * The string value of the top-level key in the JSON object doc, copied to out: 1 found, 0 not
 * there (or not a string), -1 when doc is not an object this small reader can follow (an escape
 * in the key or value: the JVM reads such a file). The JVM validates the file; this only looks.
 */
static int top_level_string(const char *doc, const char *key, char *out, size_t outlen)
{
    const char *p = ws(doc);
    if (*p++ != '{') {
        return -1;
    }
    for (p = ws(p); *p == '"'; p = ws(p)) {
        const char *k = p + 1, *e = skip_string(p);
        if (!e || memchr(k, '\\', (size_t)(e - 1 - k))) {
            return -1;
        }
        p = ws(e);
        if (*p++ != ':') {
            return -1;
        }
        p = ws(p);
        if ((size_t)(e - 1 - k) == strlen(key) && !strncmp(k, key, strlen(key))) {
            if (*p != '"') {
                return 0;
            }
            const char *v = p + 1, *ve = skip_string(p);
            if (!ve || memchr(v, '\\', (size_t)(ve - 1 - v)) || (size_t)(ve - 1 - v) >= outlen) {
                return -1;
            }
            memcpy(out, v, (size_t)(ve - 1 - v));
            out[ve - 1 - v] = '\0';
            return 1;
        }
        p = skip_value(p);
        if (!p) {
            return -1;
        }
        p = ws(*p == ',' ? p + 1 : p);
    }
    return *p == '}' ? 0 : -1;
}

/* The host policy file: NULL when there is none (a missing file is the defaults), "" unreadable. */
static char *policy_doc(const char **path)
{
    *path = env_or("CGBPF_POLICY", DEFAULT_POLICY);
    char *doc = slurp(*path);
    return doc || errno == ENOENT ? doc : strdup("");
}

/* Whether the container may carry cgbpf settings: a dev.cgbpf. text, or an escape that could spell one. */
static int mentions_cgbpf(const char *config)
{
    return strstr(config, "dev.cgbpf.") || strstr(config, "\\u");
}

/* The JVM's edit: LAUNCHER runtime-edit --bundle DIR, waited for; its exit status. */
static int jvm_edit(const char *bundle)
{
    const char *launcher = env_or("CGBPF_LAUNCHER", DEFAULT_LAUNCHER);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"cgbpf", "runtime-edit", "--bundle", (char *)bundle, NULL};
        execve(launcher, argv, environ);
        fail(1, "no cgbpf daemon answered, and %s cannot be run: %s", launcher, strerror(errno));
        _exit(1);
    }
    int st;
    while (pid > 0 && waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            pid = -1;
        }
    }
    if (pid < 0) {
        return fail(1, "cannot run %s: %s", launcher, strerror(errno));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : fail(1, "%s was killed by signal %d", launcher, WTERMSIG(st));
}

/* Has cgbpf's hooks added to DIR/config.json when the policy applies; 0 when done or not needed. */
static int edit_bundle(const char *dir, int policy_applies_all)
{
    char bundle[PATH_MAX];
    if (!realpath(dir, bundle)) {
        return fail(1, "bundle %s: %s", dir, strerror(errno));
    }
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/config.json", bundle);
    char *config = slurp(file);
    if (!config) {
        return fail(1, "cannot read %s: %s", file, strerror(errno));
    }
    int needed = policy_applies_all || mentions_cgbpf(config);
    free(config);
    if (!needed) {
        return 0;
    }
    /* the hook the edit registers: CGBPF_HOOK, else the cgbpf-hook next to this program */
    char self[PATH_MAX], hook[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (!getenv("CGBPF_HOOK") && n > 0) {
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(hook, sizeof hook, "%s/cgbpf-hook", self);
        setenv("CGBPF_HOOK", hook, 1);
    }
    int timeout_ms = timeout_ms_setting();
    if (timeout_ms < 0) {
        return 1;
    }
    size_t len;
    char *head = request_head("bundle", FORWARDED, sizeof FORWARDED / sizeof *FORWARDED, &len);
    if (!head) {
        return 1;
    }
    int st = talk(env_or("CGBPF_SOCKET", DEFAULT_SOCKET), head, len, bundle, strlen(bundle), timeout_ms);
    free(head);
    return st == NO_DAEMON ? jvm_edit(bundle) : st;
}

/* Whether arg is option name, alone ("-b") or with its value ("--bundle=DIR"); *value set for the latter. */
static int is_option(const char *arg, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n)) {
        return 0;
    }
    *value = arg[n] == '=' ? arg + n + 1 : NULL;
    return arg[n] == '\0' || arg[n] == '=';
}

int main(int argc, char **argv)
{
    fail_prefix = "cgbpf-runtime";
    const char *policy_path;
    char *policy = policy_doc(&policy_path);
    char runtime[PATH_MAX] = "runc", applies[16] = "";
    if (policy && (top_level_string(policy, "runtime", runtime, sizeof runtime) < 0
                   || top_level_string(policy, "appliesTo", applies, sizeof applies) < 0)) {
        return fail(1, "cannot read the host policy %s (runtime, appliesTo); cgbpf check --policy %s says why",
                    policy_path, policy_path);
    }
    if (getenv("CGBPF_RUNTIME") && *getenv("CGBPF_RUNTIME")) {
        snprintf(runtime, sizeof runtime, "%s", getenv("CGBPF_RUNTIME"));
    }
    if (!*runtime || strstr(runtime, "cgbpf-runtime")) {
        return fail(1, "the real runtime '%s' is not a runtime cgbpf-runtime can hand over to", runtime);
    }

    /* the subcommand: the first operand after the global options */
    int i = 1;
    const char *value;
    while (i < argc && argv[i][0] == '-') {
        int valued = 0;
        for (size_t g = 0; g < sizeof GLOBAL_VALUED / sizeof *GLOBAL_VALUED; g++) {
            valued |= is_option(argv[i], GLOBAL_VALUED[g], &value) && !value;
        }
        i += valued ? 2 : 1;
    }
    if (i < argc && (!strcmp(argv[i], "create") || !strcmp(argv[i], "run"))) {
        const char *bundle = ".";
        for (int j = i + 1; j < argc && strcmp(argv[j], "--"); j++) {
            if (is_option(argv[j], "--bundle", &value) || is_option(argv[j], "-b", &value)) {
                bundle = value ? value : j + 1 < argc ? argv[++j] : bundle;
            }
        }
        int st = edit_bundle(bundle, !strcmp(applies, "all"));
        if (st != 0) {
            return fail(st, "not starting the container: its cgbpf settings could not be put in place (%s)",
                        bundle);
        }
    }
    argv[0] = runtime;
    execvp(runtime, argv);
    return fail(127, "cannot run the runtime %s: %s", runtime, strerror(errno));
}
