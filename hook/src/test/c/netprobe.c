/*
 * netprobe: the socket calls the address guard tests make from inside a test cgroup, for what
 * Java's socket API cannot do (IP_PKTINFO / IPV6_PKTINFO sources, MPTCP and UDP-Lite sockets,
 * listen() without bind). One operation per run; each prints "NAME RESULT" lines, where RESULT
 * is what happened or the errno's name.
 *
 *   socket  FAM TYPE PROTO                      make a socket
 *   bind    FAM TYPE PROTO ADDR PORT V6ONLY      bind, print where the socket ended up
 *   connect FAM TYPE PROTO ADDR PORT             connect (1.5 s limit), print the local address
 *   sendto  FAM ADDR PORT SRC|- [connected]      UDP datagram, SRC as IP_PKTINFO/IPV6_PKTINFO;
 *                                                "connected": connect first, send without address
 *   listen  FAM WAITMS [ADDR]                    listen() (after a bind to ADDR:0 if given),
 *                                                print where, then every connection accepted
 *                                                within WAITMS
 *   sendraw FAM ADDR                             an ICMP/ICMPv6 echo request from a raw socket
 *   recv    FAM ADDR PORT WAITMS                 bind a UDP socket, print "ready", then the
 *                                                source of every datagram within WAITMS
 *   udpecho FAM ADDR PORT WAITMS                 unbound UDP sendto, print the local address,
 *                                                then every datagram received within WAITMS
 *
 * FAM is inet or inet6, TYPE stream, dgram or raw, PROTO a number, V6ONLY 0, 1 or - (leave it).
 * Built by the tests with gcc -static (no library to find at run time).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *err(void)
{
	const char *n = strerrorname_np(errno);
	return n ? n : "E?";
}

static int family(const char *s)
{
	return strcmp(s, "inet6") == 0 ? AF_INET6 : AF_INET;
}

static int socktype(const char *s)
{
	return strcmp(s, "stream") == 0 ? SOCK_STREAM : strcmp(s, "raw") == 0 ? SOCK_RAW : SOCK_DGRAM;
}

/* sockaddr of FAM for ADDR:PORT; 0 when ADDR does not parse */
static socklen_t sockaddr_of(int fam, const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? sizeof(*sin) : 0;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1 ? sizeof(*sin6) : 0;
}

/* "ADDR PORT" of a sockaddr */
static const char *name_of(const struct sockaddr_storage *ss)
{
	static char out[INET6_ADDRSTRLEN + 8];
	char a[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(out, sizeof(out), "%s %d", a, port);
	return out;
}

static const char *local_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	getsockname(fd, (struct sockaddr *)&ss, &len);
	return name_of(&ss);
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* poll one fd for events until the deadline; 1 ready, 0 timeout */
static int wait_for(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

static int open_socket(const char *name, int fam, int type, int proto)
{
	int fd = socket(fam, type, proto);
	if (fd < 0)
		printf("%s %s\n", name, err());
	return fd;
}

static int op_socket(char **a)
{
	int fd = open_socket("socket", family(a[0]), socktype(a[1]), atoi(a[2]));
	if (fd >= 0)
		printf("socket ok\n");
	return 0;
}

static int op_bind(char **a)
{
	int fam = family(a[0]);
	int fd = open_socket("bind", fam, socktype(a[1]), atoi(a[2]));
	struct sockaddr_storage ss;
	if (fd < 0)
		return 0;
	if (strcmp(a[5], "-") != 0) {
		int v = atoi(a[5]);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	}
	socklen_t len = sockaddr_of(fam, a[3], atoi(a[4]), &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		printf("bind %s\n", err());
	else
		printf("bind %s\n", local_of(fd));
	return 0;
}

static int op_connect(char **a)
{
	int fam = family(a[0]);
	int fd = open_socket("connect", fam, socktype(a[1]) | SOCK_NONBLOCK, atoi(a[2]));
	struct sockaddr_storage ss;
	if (fd < 0)
		return 0;
	socklen_t len = sockaddr_of(fam, a[3], atoi(a[4]), &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS) {
			printf("connect %s\n", err());
			return 0;
		}
		if (!wait_for(fd, POLLOUT, now_ms() + 1500)) {
			printf("connect timeout\n");
			return 0;
		}
		int e = 0;
		socklen_t el = sizeof(e);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			errno = e;
			printf("connect %s\n", err());
			return 0;
		}
	}
	printf("connect %s\n", local_of(fd));
	return 0;
}

static int op_sendto(char **a, int argc)
{
	int fam = family(a[0]);
	int connected = argc > 4 && strcmp(a[4], "connected") == 0;
	int fd = open_socket("sendto", fam, SOCK_DGRAM, 0);
	struct sockaddr_storage dst;
	char payload[] = "pktinfo";
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd < 0)
		return 0;
	socklen_t len = sockaddr_of(fam, a[1], atoi(a[2]), &dst);
	if (connected) {
		if (connect(fd, (struct sockaddr *)&dst, len) < 0) {
			printf("sendto connect-%s\n", err());
			return 0;
		}
	} else {
		msg.msg_name = &dst;
		msg.msg_namelen = len;
	}
	if (strcmp(a[3], "-") != 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		struct cmsghdr *c = (struct cmsghdr *)control.buf;
		if (fam == AF_INET) {
			struct in_pktinfo pi = { 0 };
			inet_pton(AF_INET, a[3], &pi.ipi_spec_dst);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo pi = { 0 };
			inet_pton(AF_INET6, a[3], &pi.ipi6_addr);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	if (sendmsg(fd, &msg, 0) < 0)
		printf("sendto %s\n", err());
	else
		printf("sendto sent %s\n", local_of(fd));
	return 0;
}

static int op_listen(char **a, int argc)
{
	int fam = family(a[0]);
	int fd = open_socket("listen", fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	long deadline = now_ms() + atol(a[1]);
	if (fd < 0)
		return 0;
	if (argc > 2) {
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of(fam, a[2], 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
			printf("listening bind-%s\n", err());
			return 0;
		}
	}
	if (listen(fd, 8) < 0) {
		printf("listen %s\n", err());
		return 0;
	}
	printf("listening %s\n", local_of(fd));
	fflush(stdout);
	while (wait_for(fd, POLLIN, deadline)) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int c = accept(fd, (struct sockaddr *)&peer, &len);
		if (c >= 0) {
			printf("accepted %s\n", name_of(&peer));
			fflush(stdout);
			close(c);
		}
	}
	printf("done\n");
	return 0;
}

static int op_udpecho(char **a)
{
	int fam = family(a[0]);
	int fd = open_socket("udpecho", fam, SOCK_DGRAM, 0);
	long deadline = now_ms() + atol(a[3]);
	struct sockaddr_storage dst;
	if (fd < 0)
		return 0;
	socklen_t len = sockaddr_of(fam, a[1], atoi(a[2]), &dst);
	if (sendto(fd, "hello", 5, 0, (struct sockaddr *)&dst, len) < 0) {
		printf("sent %s\n", err());
		return 0;
	}
	printf("sent %s\n", local_of(fd));
	fflush(stdout);
	while (wait_for(fd, POLLIN, deadline)) {
		char buf[64];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
		if (n >= 0) {
			buf[n] = 0;
			printf("got %s\n", buf);
			fflush(stdout);
		}
	}
	printf("done\n");
	return 0;
}

static int op_sendraw(char **a)
{
	int fam = family(a[0]);
	int fd = open_socket("sendraw", fam, SOCK_RAW, fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	/* echo request, id 0x4342, seq 1; the IPv4 checksum is over these 8 bytes, IPv6's the kernel's */
	unsigned char echo[8] = { fam == AF_INET ? 8 : 128, 0, 0, 0, 0x43, 0x42, 0, 1 };
	struct sockaddr_storage dst;
	if (fd < 0)
		return 0;
	if (fam == AF_INET) {
		unsigned sum = 0;
		for (int i = 0; i < 8; i += 2)
			sum += (echo[i] << 8) | echo[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
		echo[2] = (unsigned char)(~sum >> 8);
		echo[3] = (unsigned char)~sum;
	}
	socklen_t len = sockaddr_of(fam, a[1], 0, &dst);
	if (sendto(fd, echo, sizeof(echo), 0, (struct sockaddr *)&dst, len) < 0)
		printf("sendraw %s\n", err());
	else
		printf("sendraw sent\n");
	return 0;
}

static int op_recv(char **a)
{
	int fam = family(a[0]);
	int fd = open_socket("recv", fam, SOCK_DGRAM, 0);
	long deadline = now_ms() + atol(a[3]);
	struct sockaddr_storage ss;
	if (fd < 0)
		return 0;
	socklen_t len = sockaddr_of(fam, a[1], atoi(a[2]), &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		printf("recv %s\n", err());
		return 0;
	}
	printf("ready %s\n", local_of(fd));
	fflush(stdout);
	while (wait_for(fd, POLLIN, deadline)) {
		char buf[64];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) >= 0) {
			char *sp;
			const char *n = name_of(&from);
			printf("from %.*s\n", (sp = strchr(n, ' ')) ? (int)(sp - n) : (int)strlen(n), n);
			fflush(stdout);
		}
	}
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int args; } ops[] = {
		{ "socket", 3 }, { "bind", 6 }, { "connect", 5 }, { "sendto", 4 }, { "listen", 2 }, { "udpecho", 4 }, { "sendraw", 2 }, { "recv", 4 },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; argc > 1 && i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[1], ops[i].name) != 0)
			continue;
		if (argc - 2 < ops[i].args)
			break;
		char **a = argv + 2;
		switch (i) {
		case 0: return op_socket(a);
		case 1: return op_bind(a);
		case 2: return op_connect(a);
		case 3: return op_sendto(a, argc - 2);
		case 4: return op_listen(a, argc - 2);
		case 5: return op_udpecho(a);
		case 6: return op_sendraw(a);
		default: return op_recv(a);
		}
	}
	fprintf(stderr, "usage: netprobe socket|bind|connect|sendto|listen|udpecho|sendraw|recv ARGS (see the source)\n");
	return 2;
}
