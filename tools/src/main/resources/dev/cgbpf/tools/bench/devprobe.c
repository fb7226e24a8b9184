/*
 * devprobe: ns per open(2) of an allowed and of a denied device node, from inside a cgroup.
 *
 *   devprobe CGROUP_PROCS ALLOWED_NODE DENIED_NODE ROUNDS ROUND_MS
 *
 * Moves itself into the cgroup (writes its pid to CGROUP_PROCS), then per node: calibrates a
 * count of opens that takes about ROUND_MS, and times ROUNDS rounds of that many opens (and
 * closes) with CLOCK_MONOTONIC. Prints "allowed NS" and "denied NS", the median round's ns per
 * open; ALLOWED_NODE or DENIED_NODE "-" leaves that node out (a cgroup without programs has no
 * denied node; the program's own time is read per node, between two runs). An allowed
 * open that fails, or a denied one that does not fail with EPERM, is an error
 * (exit 1): the figure would not be the device program's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int one(const char *node, int allowed) {
    int fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (allowed) {
        if (fd < 0) {
            fprintf(stderr, "devprobe: open %s: %s (expected to be allowed)\n", node, strerror(errno));
            return -1;
        }
        close(fd);
        return 0;
    }
    if (fd >= 0 || errno != EPERM) {
        fprintf(stderr, "devprobe: open %s: %s (expected EPERM)\n", node, fd >= 0 ? "opened" : strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static int measure(const char *node, int allowed, int rounds, long round_ms, double *median) {
    long n = 1;
    for (;;) { /* calibrate: double the count until a batch takes a tenth of a round */
        long long t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (one(node, allowed) < 0) {
                return -1;
            }
        }
        long long dt = now_ns() - t0;
        if (dt * 10 >= round_ms * 1000000LL || n >= (1L << 30)) {
            n = n * 10;
            break;
        }
        n *= 2;
    }
    double per[64];
    for (int r = 0; r < rounds; r++) {
        long long t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (one(node, allowed) < 0) {
                return -1;
            }
        }
        per[r] = (double) (now_ns() - t0) / n;
    }
    qsort(per, rounds, sizeof per[0], cmp);
    *median = per[rounds / 2];
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: devprobe CGROUP_PROCS ALLOWED_NODE DENIED_NODE ROUNDS ROUND_MS\n");
        return 2;
    }
    int rounds = atoi(argv[4]);
    long round_ms = atol(argv[5]);
    if (rounds < 1 || rounds > 64 || round_ms < 1) {
        fprintf(stderr, "devprobe: ROUNDS 1..64, ROUND_MS > 0\n");
        return 2;
    }
    FILE *procs = fopen(argv[1], "w");
    if (procs == NULL || fprintf(procs, "%d\n", (int) getpid()) < 0 || fclose(procs) != 0) {
        fprintf(stderr, "devprobe: cannot join the cgroup through %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    double a = -1, d = -1;
    if ((strcmp(argv[2], "-") != 0 && measure(argv[2], 1, rounds, round_ms, &a) < 0)
            || (strcmp(argv[3], "-") != 0 && measure(argv[3], 0, rounds, round_ms, &d) < 0)) {
        return 1;
    }
    printf("allowed %.1f\ndenied %.1f\n", a, d);
    return 0;
}
