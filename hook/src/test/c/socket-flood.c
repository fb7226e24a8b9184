/*
 * socket-flood N: calls socket(AF_INET, SOCK_DGRAM, 0) N times in a tight loop, closing any
 * socket it gets, and prints "pid P eperm E other O" (E: the calls refused with EPERM). Run in
 * a cgroup whose socket program denies UDP, every call is one denial: the events flood test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long eperm = 0, other = 0;
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
    return 0;
}
