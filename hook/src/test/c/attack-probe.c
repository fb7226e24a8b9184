/*
 * attack-probe: the container side of SecurityRegressionTest.
 *
 * Built by the test with `gcc -static -O2` and run inside busybox containers. Each subcommand
 * makes one attempt and prints one line: "ok WHAT ..." when the kernel let it through, or
 * "err ERRNO_NAME WHAT ..." when a system call failed (the name, e.g. EPERM, is what the test
 * asserts). listen-unbound also prints one "accepted ADDR PORT" line per connection and an "end"
 * line. The exit status is 0 after "ok", 1 after "err", 2 for a usage error.
 *
 *   open PATH r|w|rw                  open a file (a device node), read or write one chunk
 *   mknod-open c|b MAJ MIN [r|w|rw]   mknod a node in /dev (needs CAP_MKNOD), then open it
 *   bind tcp4|tcp6|udp4|udp6 ADDR PORT
 *   listen-unbound tcp4|tcp6 SECONDS  listen() without bind(), print the port, accept for SECONDS
 *   sendto udp4|udp6 ADDR PORT        one datagram from an unbound socket
 *   pktinfo4 SRC DST PORT             sendmsg with IP_PKTINFO naming the source SRC
 *   pktinfo6 SRC DST PORT             sendmsg with IPV6_PKTINFO naming the source SRC
 *   connect tcp4|tcp6|mptcp4|mptcp6 ADDR PORT
 *   socket inet|inet6 raw|udplite|mptcp|tcp|udp
 *   socket packet                     AF_PACKET, SOCK_RAW
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

/* The errno's symbolic name, e.g. EPERM (glibc 2.32+ knows them all; older ones get a number). */
static const char *errname(int e)
{
	static char buf[24];
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *n = strerrorname_np(e);
	if (n != NULL)
		return n;
#endif
	snprintf(buf, sizeof buf, "ERRNO%d", e);
	return buf;
}

/* The one-line answers. */
static int ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ok(const char *fmt, ...)
{
	va_list ap;
	fputs("ok ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return 0;
}

static int fail(int e, const char *fmt, ...)
{
	va_list ap;
	printf("err %s ", errname(e));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return 1;
}

static int usage(void)
{
	fputs("usage: attack-probe open|mknod-open|bind|listen-unbound|sendto|pktinfo4|pktinfo6|connect|socket ...\n",
	      stderr);
	return 2;
}

static int access_flags(const char *mode)
{
	if (strcmp(mode, "r") == 0)
		return O_RDONLY;
	if (strcmp(mode, "w") == 0)
		return O_WRONLY;
	if (strcmp(mode, "rw") == 0)
		return O_RDWR;
	return -1;
}

/* Opens PATH; after a successful open reads (r, rw) or writes (w) one small chunk. */
static int open_and_use(const char *what, const char *path, const char *mode)
{
	int flags = access_flags(mode);
	char buf[16];
	int fd;
	ssize_t n;

	if (flags < 0)
		return usage();
	fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail(errno, "%s %s %s", what, path, mode);
	if (flags == O_WRONLY) {
		memset(buf, 'x', sizeof buf);
		n = write(fd, buf, 4);
		if (n < 0) {
			int e = errno;
			close(fd);
			return fail(e, "write %s", path);
		}
		close(fd);
		return ok("%s %s %s wrote=%zd", what, path, mode, n);
	}
	n = read(fd, buf, 4);
	if (n < 0) {
		/* opened: the device cgroup let it through; a driver may still refuse the read */
		int e = errno;
		close(fd);
		return ok("%s %s %s read-error=%s", what, path, mode, errname(e));
	}
	close(fd);
	return ok("%s %s %s read=%zd", what, path, mode, n);
}

static int cmd_mknod_open(int argc, char **argv)
{
	char path[96];
	const char *mode = argc > 4 ? argv[4] : "rw";
	unsigned long maj, min;
	mode_t kind;
	int rc;

	if (argc < 4 || (strcmp(argv[1], "c") != 0 && strcmp(argv[1], "b") != 0) || access_flags(mode) < 0)
		return usage();
	kind = argv[1][0] == 'c' ? S_IFCHR : S_IFBLK;
	maj = strtoul(argv[2], NULL, 10);
	min = strtoul(argv[3], NULL, 10);
	/* /dev is the container's own tmpfs (devices allowed); /tmp is mounted nodev */
	snprintf(path, sizeof path, "/dev/.cgbpf-probe-%s-%lu-%lu", argv[1], maj, min);
	unlink(path);
	if (mknod(path, kind | 0600, makedev(maj, min)) != 0)
		return fail(errno, "mknod %s %lu:%lu", argv[1], maj, min);
	rc = open_and_use("mknod-open", path, mode);
	unlink(path);
	return rc;
}

/* Family and socket type of "tcp4", "udp6", "mptcp4", ...; returns 0 when unknown. */
static int parse_kind(const char *k, int *family, int *type, int *proto)
{
	static const struct {
		const char *name;
		int family, type, proto;
	} kinds[] = {
		{"tcp4", AF_INET, SOCK_STREAM, IPPROTO_TCP},
		{"tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
		{"udp4", AF_INET, SOCK_DGRAM, IPPROTO_UDP},
		{"udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
		{"mptcp4", AF_INET, SOCK_STREAM, IPPROTO_MPTCP},
		{"mptcp6", AF_INET6, SOCK_STREAM, IPPROTO_MPTCP},
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(k, kinds[i].name) == 0) {
			*family = kinds[i].family;
			*type = kinds[i].type;
			*proto = kinds[i].proto;
			return 1;
		}
	}
	return 0;
}

/* ADDR PORT into a sockaddr of FAMILY; an IPv4 literal for an IPv6 socket becomes ::ffff:A.B.C.D. */
static int make_addr(int family, const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return 0;
		*len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		struct in_addr v4;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) {
			if (inet_pton(AF_INET, addr, &v4) != 1)
				return 0;
			a->sin6_addr.s6_addr[10] = 0xff;
			a->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
		}
		*len = sizeof *a;
	}
	return 1;
}

/* "ADDR PORT" of a sockaddr. */
static const char *show(const struct sockaddr_storage *ss)
{
	static char out[INET6_ADDRSTRLEN + 8];
	char a[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
		snprintf(out, sizeof out, "%s %u", a, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
		snprintf(out, sizeof out, "%s %u", a, ntohs(s->sin6_port));
	} else {
		snprintf(out, sizeof out, "family-%d", ss->ss_family);
	}
	return out;
}

static const char *local_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return "?";
	return show(&ss);
}

static int cmd_bind(int argc, char **argv)
{
	int family, type, proto, fd, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	if (argc < 4 || !parse_kind(argv[1], &family, &type, &proto) || proto == IPPROTO_MPTCP)
		return usage();
	if (!make_addr(family, argv[2], argv[3], &ss, &len))
		return usage();
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fail(errno, "socket %s", argv[1]);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;
		close(fd);
		return fail(e, "bind %s %s %s", argv[1], argv[2], argv[3]);
	}
	ok("bind %s %s", argv[1], local_of(fd));
	close(fd);
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmd_listen_unbound(int argc, char **argv)
{
	int family, type, proto, fd, accepted = 0;
	double end;

	if (argc < 3 || !parse_kind(argv[1], &family, &type, &proto) || type != SOCK_STREAM)
		return usage();
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fail(errno, "socket %s", argv[1]);
	if (listen(fd, 16) != 0) {
		int e = errno;
		close(fd);
		return fail(e, "listen %s", argv[1]);
	}
	ok("listen %s %s", argv[1], local_of(fd));
	end = now() + atof(argv[2]);
	while (now() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = (int)((end - now()) * 1000);
		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			continue;
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int c = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (c >= 0) {
			char here[INET6_ADDRSTRLEN + 8];
			snprintf(here, sizeof here, "%s", local_of(c));
			printf("accepted %s to %s\n", show(&peer), here);
			fflush(stdout);
			accepted++;
			close(c);
		}
	}
	printf("end accepted=%d\n", accepted);
	fflush(stdout);
	close(fd);
	return 0;
}

static int cmd_sendto(int argc, char **argv)
{
	int family, type, proto, fd;
	struct sockaddr_storage ss;
	socklen_t len;
	static const char msg[] = "cgbpf-probe";

	if (argc < 4 || !parse_kind(argv[1], &family, &type, &proto) || type != SOCK_DGRAM)
		return usage();
	if (!make_addr(family, argv[2], argv[3], &ss, &len))
		return usage();
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fail(errno, "socket %s", argv[1]);
	if (sendto(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "sendto %s %s %s", argv[1], argv[2], argv[3]);
	}
	ok("sendto %s %s %s from %s", argv[1], argv[2], argv[3], local_of(fd));
	close(fd);
	return 0;
}

/* One datagram whose source address is chosen with IP_PKTINFO (v4) or IPV6_PKTINFO (v6). */
static int cmd_pktinfo(int argc, char **argv, int family)
{
	struct sockaddr_storage dst;
	socklen_t len;
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
	static char payload[] = "cgbpf-probe-pktinfo";
	struct iovec iov = {.iov_base = payload, .iov_len = sizeof payload - 1};
	struct msghdr mh;
	struct cmsghdr *cm;
	int fd;

	if (argc < 4 || !make_addr(family, argv[2], argv[3], &dst, &len))
		return usage();
	memset(control, 0, sizeof control);
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &dst;
	mh.msg_namelen = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control;
	cm = (struct cmsghdr *)control;
	if (family == AF_INET) {
		struct in_pktinfo pi;
		memset(&pi, 0, sizeof pi);
		if (inet_pton(AF_INET, argv[1], &pi.ipi_spec_dst) != 1)
			return usage();
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(cm), &pi, sizeof pi);
		mh.msg_controllen = CMSG_SPACE(sizeof pi);
	} else {
		struct in6_pktinfo pi;
		struct sockaddr_storage src;
		socklen_t srclen;
		memset(&pi, 0, sizeof pi);
		if (!make_addr(AF_INET6, argv[1], "0", &src, &srclen))
			return usage();
		pi.ipi6_addr = ((struct sockaddr_in6 *)&src)->sin6_addr;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(cm), &pi, sizeof pi);
		mh.msg_controllen = CMSG_SPACE(sizeof pi);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return fail(errno, "socket udp%s", family == AF_INET ? "4" : "6");
	if (sendmsg(fd, &mh, 0) < 0) {
		int e = errno;
		close(fd);
		return fail(e, "pktinfo%s %s %s %s", family == AF_INET ? "4" : "6", argv[1], argv[2], argv[3]);
	}
	ok("pktinfo%s %s %s %s", family == AF_INET ? "4" : "6", argv[1], argv[2], argv[3]);
	close(fd);
	return 0;
}

static int cmd_connect(int argc, char **argv)
{
	int family, type, proto, fd, err = 0;
	struct sockaddr_storage ss;
	socklen_t len, elen = sizeof err;

	if (argc < 4 || !parse_kind(argv[1], &family, &type, &proto) || type != SOCK_STREAM)
		return usage();
	if (!make_addr(family, argv[2], argv[3], &ss, &len))
		return usage();
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return fail(errno, "socket %s", argv[1]);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			return fail(e, "connect %s %s %s", argv[1], argv[2], argv[3]);
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 3000) != 1) {
			close(fd);
			return fail(ETIMEDOUT, "connect %s %s %s", argv[1], argv[2], argv[3]);
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			close(fd);
			return fail(err, "connect %s %s %s", argv[1], argv[2], argv[3]);
		}
	}
	ok("connect %s %s %s from %s", argv[1], argv[2], argv[3], local_of(fd));
	close(fd);
	return 0;
}

static int cmd_socket(int argc, char **argv)
{
	int family, type, proto, fd;

	if (argc >= 2 && strcmp(argv[1], "packet") == 0) {
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (fd < 0)
			return fail(errno, "socket packet");
		close(fd);
		return ok("socket packet");
	}
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "inet") == 0)
		family = AF_INET;
	else if (strcmp(argv[1], "inet6") == 0)
		family = AF_INET6;
	else
		return usage();
	if (strcmp(argv[2], "raw") == 0) {
		type = SOCK_RAW;
		proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	} else if (strcmp(argv[2], "udplite") == 0) {
		type = SOCK_DGRAM;
		proto = IPPROTO_UDPLITE;
	} else if (strcmp(argv[2], "mptcp") == 0) {
		type = SOCK_STREAM;
		proto = IPPROTO_MPTCP;
	} else if (strcmp(argv[2], "tcp") == 0) {
		type = SOCK_STREAM;
		proto = IPPROTO_TCP;
	} else if (strcmp(argv[2], "udp") == 0) {
		type = SOCK_DGRAM;
		proto = IPPROTO_UDP;
	} else {
		return usage();
	}
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fail(errno, "socket %s %s", argv[1], argv[2]);
	close(fd);
	return ok("socket %s %s", argv[1], argv[2]);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "open") == 0)
		return argc < 3 ? usage() : open_and_use("open", argv[1], argv[2]);
	if (strcmp(cmd, "mknod-open") == 0)
		return cmd_mknod_open(argc, argv);
	if (strcmp(cmd, "bind") == 0)
		return cmd_bind(argc, argv);
	if (strcmp(cmd, "listen-unbound") == 0)
		return cmd_listen_unbound(argc, argv);
	if (strcmp(cmd, "sendto") == 0)
		return cmd_sendto(argc, argv);
	if (strcmp(cmd, "pktinfo4") == 0)
		return cmd_pktinfo(argc, argv, AF_INET);
	if (strcmp(cmd, "pktinfo6") == 0)
		return cmd_pktinfo(argc, argv, AF_INET6);
	if (strcmp(cmd, "connect") == 0)
		return cmd_connect(argc, argv);
	if (strcmp(cmd, "socket") == 0)
		return cmd_socket(argc, argv);
	return usage();
}
