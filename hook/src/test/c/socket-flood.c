/*
 * socket-flood N [ADDR PORT [SLEEP]]: with ADDR, first binds a TCP socket to ADDR:PORT and prints
 * "bind OK" or "bind ERRNO-NAME"; then calls socket(AF_INET, SOCK_DGRAM, 0) N times in a tight loop, closing any
 * socket it gets, and prints "pid P eperm E other O" (E: the calls refused with EPERM). Run in
 * a cgroup whose socket program denies UDP, every call is one denial: the events flood test.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long eperm = 0, other = 0;
    if (argc > 3) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short) atoi(argv[3]));
        inet_pton(AF_INET, argv[2], &sin.sin_addr);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (bind(s, (struct sockaddr *) &sin, sizeof sin) == 0) {
            printf("bind OK\n");
        } else {
            const char *n = strerrorname_np(errno);
            printf("bind %s\n", n ? n : "E?");
        }
        close(s);
    }
    for (long i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd >= 0) {
            close(fd);
            other++;
        } else if (errno == EPERM) {
            eperm++;
        } else {
            other++;
        }
    }
    printf("pid %d eperm %ld other %ld\n", (int) getpid(), eperm, other);
    fflush(stdout);
    if (argc > 4) {
        sleep((unsigned) atoi(argv[4])); /* SLEEP: stay alive so the container can be looked at */
    }
    return 0;
}
