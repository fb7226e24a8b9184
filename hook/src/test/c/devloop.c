/*
 * devloop: opens device nodes in a loop and counts what the device programs answered.
 *
 *   devloop NODE...
 *
 * Waits for a line on stdin (so that the caller can attach programs first), then opens each NODE
 * in turn (O_RDONLY) until stdin has more to say or reaches end-of-file (checked every 64 rounds
 * with a zero-timeout poll, after at least 64 rounds), and prints one line per node: "NODE OPENED REFUSED" (REFUSED counts
 * EPERM; any other failure is an error, exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 17) {
        fprintf(stderr, "usage: devloop NODE... (1 to 16)\n");
        return 2;
    }
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) {
        return 2;
    }
    long opened[16] = {0}, refused[16] = {0};
    int n = argc - 1;
    for (long round = 0;; round++) {
        if (round % 64 == 0 && round > 0) {
            struct pollfd p = {.fd = 0, .events = POLLIN};
            if (poll(&p, 1, 0) != 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            int fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) {
                opened[i]++;
                close(fd);
            } else if (errno == EPERM) {
                refused[i]++;
            } else {
                fprintf(stderr, "devloop: open %s: %s\n", argv[i + 1], strerror(errno));
                return 1;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        printf("%s %ld %ld\n", argv[i + 1], opened[i], refused[i]);
    }
    return 0;
}
