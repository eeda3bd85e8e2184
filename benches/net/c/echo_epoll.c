/* echo_epoll.c: minimal edge-triggered epoll echo server, the practical limit the Rust
 * servers are compared with.
 *
 * Build: cc -O2 -o echo_epoll echo_epoll.c
 * Run:   echo_epoll --addr 127.0.0.1:PORT [--udp]      (serves until killed)
 *
 * One thread. Every socket is registered once (EPOLLIN | EPOLLOUT | EPOLLET) and never
 * touched with epoll_ctl again. Reads go to one shared 64 KiB buffer and are written
 * straight back; only bytes the kernel would not take are copied to a per-connection
 * pending buffer, and reading that connection stops until they are written. A read shorter
 * than the buffer means the socket was drained (edge-triggered: the next byte raises a new
 * event), so no read is spent on EAGAIN. UDP: each datagram back to its sender; one that
 * cannot be sent now is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 1024

struct conn {
    int fd;
    char *pending;      /* bytes the kernel did not take yet, or NULL */
    size_t pending_len; /* how many of them are left, from pending_off */
    size_t pending_off;
};

static char buf[BUF_SIZE];
static int listener_marker; /* epoll data.ptr of the listening / UDP socket */

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void raise_nofile(void) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

/* Parses HOST:PORT (or [V6]:PORT) and returns a bound socket of the given type. */
static int bind_addr(const char *spec, int type) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host) {
        fprintf(stderr, "echo_epoll: bad --addr %s (want HOST:PORT)\n", spec);
        exit(2);
    }
    size_t len = (size_t)(colon - spec);
    if (len >= 2 && spec[0] == '[' && spec[len - 1] == ']') {
        memcpy(host, spec + 1, len - 2);
        host[len - 2] = 0;
    } else {
        memcpy(host, spec, len);
        host[len] = 0;
    }
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = type;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "echo_epoll: bad --addr %s: %s\n", spec, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    freeaddrinfo(ai);
    return fd;
}

static void add(int ep, int fd, unsigned events, void *ptr) {
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static void close_conn(struct conn *c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c->pending);
    free(c);
}

static void accept_all(int ep, int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) perror("accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        add(ep, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, c);
    }
}

/* Writes as much of data as the kernel takes now; -1 on a fatal error. */
static ssize_t write_some(int fd, const char *data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            break;
        } else {
            return -1;
        }
    }
    return (ssize_t)done;
}

/* Writes the pending bytes; returns -1 on error, 1 if some are still pending, else 0. */
static int flush_pending(struct conn *c) {
    if (!c->pending) return 0;
    ssize_t n = write_some(c->fd, c->pending + c->pending_off, c->pending_len);
    if (n < 0) return -1;
    c->pending_off += (size_t)n;
    c->pending_len -= (size_t)n;
    if (c->pending_len > 0) return 1;
    free(c->pending);
    c->pending = NULL;
    return 0;
}

/* Reads and echoes until drained or the peer stops taking bytes; -1 means close. */
static int echo_available(struct conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, buf, BUF_SIZE);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        ssize_t w = write_some(c->fd, buf, (size_t)n);
        if (w < 0) return -1;
        if (w < n) {
            c->pending_len = (size_t)(n - w);
            c->pending_off = 0;
            c->pending = malloc(c->pending_len);
            if (!c->pending) die("malloc");
            memcpy(c->pending, buf + w, c->pending_len);
            return 0;
        }
        if (n < BUF_SIZE) return 0;
    }
}

static void service(struct conn *c) {
    int rc = flush_pending(c);
    if (rc == 0) rc = echo_available(c);
    if (rc < 0) close_conn(c);
}

static void serve_tcp(int ep, const char *addr) {
    int lfd = bind_addr(addr, SOCK_STREAM);
    if (listen(lfd, SOMAXCONN) < 0) die("listen");
    add(ep, lfd, EPOLLIN | EPOLLET, &listener_marker);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &listener_marker)
                accept_all(ep, lfd);
            else
                service(events[i].data.ptr);
        }
    }
}

static void echo_datagrams(int fd) {
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        ssize_t n = recvfrom(fd, buf, BUF_SIZE, 0, (struct sockaddr *)&peer, &peer_len);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) perror("recvfrom");
            return;
        }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peer_len);
    }
}

static void serve_udp(int ep, const char *addr) {
    int fd = bind_addr(addr, SOCK_DGRAM);
    add(ep, fd, EPOLLIN | EPOLLET, &listener_marker);
    struct epoll_event events[16];
    for (;;) {
        int n = epoll_wait(ep, events, 16, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        echo_datagrams(fd);
    }
}

int main(int argc, char **argv) {
    const char *addr = NULL;
    int udp = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else if (strncmp(argv[i], "--addr=", 7) == 0) {
            addr = argv[i] + 7;
        } else if (strcmp(argv[i], "--udp") == 0) {
            udp = 1;
        } else {
            fprintf(stderr, "usage: echo_epoll --addr HOST:PORT [--udp]\n");
            return 2;
        }
    }
    if (!addr) {
        fprintf(stderr, "usage: echo_epoll --addr HOST:PORT [--udp]\n");
        return 2;
    }
    raise_nofile();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    if (udp)
        serve_udp(ep, addr);
    else
        serve_tcp(ep, addr);
    return 0;
}
