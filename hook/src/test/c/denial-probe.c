/*
 * denial-probe OP...: does each OP in turn, prints one line per OP, and "pid P" first.
 *
 *   open PATH             open(PATH, O_WRONLY) once: "open PATH OK" or "open PATH ERRNO-NAME"
 *   bind ADDR PORT        a TCP socket bound to ADDR:PORT (IPv4): "bind OK" or "bind ERRNO-NAME"
 *   socket                socket(AF_INET, SOCK_DGRAM, 0) once: "socket OK" or "socket ERRNO-NAME"
 *   flood-open PATH N     open(PATH, O_WRONLY) N times in a tight loop, closing what it gets:
 *                         "flood-open eperm E other O" (E: the opens refused with EPERM)
 *   flood-socket N        socket(AF_INET, SOCK_DGRAM, 0) N times: "flood-socket eperm E other O"
 *   sleep S               stays alive S seconds (so that the container can be looked at)
 *
 * Run in a cgroup whose programs refuse these, each refused call is one denial: the events tests
 * (one of each kind, then a flood). Static, so it runs in a busybox rootfs and costs no loader.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *err_name(int e) {
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static void result(const char *what, const char *arg, int ok) {
    int e = errno;
    printf("%s%s%s %s\n", what, arg ? " " : "", arg ? arg : "", ok ? "OK" : err_name(e));
}

int main(int argc, char **argv) {
    printf("pid %d\n", (int) getpid());
    for (int i = 1; i < argc; i++) {
        const char *op = argv[i];
        if (strcmp(op, "open") == 0 && i + 1 < argc) {
            const char *path = argv[++i];
            int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
            result("open", path, fd >= 0);
            if (fd >= 0) {
                close(fd);
            }
        } else if (strcmp(op, "bind") == 0 && i + 2 < argc) {
            struct sockaddr_in sin;
            memset(&sin, 0, sizeof sin);
            sin.sin_family = AF_INET;
            inet_pton(AF_INET, argv[i + 1], &sin.sin_addr);
            sin.sin_port = htons((unsigned short) atoi(argv[i + 2]));
            i += 2;
            int s = socket(AF_INET, SOCK_STREAM, 0);
            result("bind", NULL, s >= 0 && bind(s, (struct sockaddr *) &sin, sizeof sin) == 0);
            if (s >= 0) {
                close(s);
            }
        } else if (strcmp(op, "socket") == 0) {
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            result("socket", NULL, fd >= 0);
            if (fd >= 0) {
                close(fd);
            }
        } else if ((strcmp(op, "flood-open") == 0 && i + 2 < argc) || (strcmp(op, "flood-socket") == 0 && i + 1 < argc)) {
            int device = op[6] == 'o';
            const char *path = device ? argv[++i] : NULL;
            long n = atol(argv[++i]);
            long eperm = 0, other = 0;
            for (long k = 0; k < n; k++) {
                int fd = device ? open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY) : socket(AF_INET, SOCK_DGRAM, 0);
                if (fd >= 0) {
                    close(fd);
                    other++;
                } else if (errno == EPERM) {
                    eperm++;
                } else {
                    other++;
                }
            }
            printf("%s eperm %ld other %ld\n", op, eperm, other);
        } else if (strcmp(op, "sleep") == 0 && i + 1 < argc) {
            fflush(stdout);
            sleep((unsigned) atoi(argv[++i]));
        } else {
            fprintf(stderr, "denial-probe: bad or incomplete operation '%s'\n", op);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}
