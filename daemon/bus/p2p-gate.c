/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The read side of a peer-to-peer connection: see p2p-gate.h. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/p2p-gate.h"
#include "log.h"
#include "macro.h"

#define GATE_CHUNK 65536u
#define GATE_MESSAGE_MAX (128ULL * 1024 * 1024)        /* D-Bus' limit on a message's length */
#define GATE_HEAD 16u                                   /* the fixed part of a message's header */

static const char auth_begin[] = "BEGIN\r\n";

typedef union GateControl {
        struct cmsghdr header;
        uint8_t buf[CMSG_SPACE(sizeof(int) * P2P_MESSAGE_FDS)];
} GateControl;

struct P2PGate {
        int peer_fd;
        int bus_fd;                     /* our end of the pair; sd-bus reads the other */
        sd_event_source *in, *out, *timer;
        p2p_gate_fail_fn fail;
        void *userdata;
        bool failed;
        /* A chunk read from the peer and not yet passed on, and the fds that came with it. */
        uint8_t chunk[GATE_CHUNK];
        size_t len, off;
        int fds[P2P_MESSAGE_FDS];
        size_t n_fds;
        /* Where the stream is: the authentication lines, then messages. */
        bool authenticated;
        size_t line_match;              /* bytes of this line that match auth_begin; SIZE_MAX: none */
        uint8_t head[GATE_HEAD];
        size_t head_len;                /* GATE_HEAD while in a message's rest */
        uint64_t left;                  /* bytes of the message after its fixed head */
        size_t message_fds;
        bool completed;                 /* a message ended in the last chunk */
};

static void gate_close_fds(P2PGate *g) {
        for (size_t i = 0; i < g->n_fds; i++)
                safe_close(g->fds[i]);
        g->n_fds = 0;
}

P2PGate *p2p_gate_free(P2PGate *g) {
        if (!g)
                return NULL;
        sd_event_source_disable_unref(g->in);
        sd_event_source_disable_unref(g->out);
        sd_event_source_disable_unref(g->timer);
        gate_close_fds(g);
        safe_close(g->peer_fd);
        safe_close(g->bus_fd);
        free(g);
        return NULL;
}

/* Stops reading and ends sd-bus' side: sd-bus then sees the connection end. */
static void gate_end(P2PGate *g) {
        (void) sd_event_source_set_enabled(g->in, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
        (void) shutdown(g->bus_fd, SHUT_WR);
}

static void gate_fail(P2PGate *g, const char *why) {
        if (g->failed)
                return;
        g->failed = true;
        gate_close_fds(g);
        g->len = g->off = 0;
        (void) sd_event_source_set_enabled(g->out, SD_EVENT_OFF);
        gate_end(g);
        g->fail(g->userdata, why);
}

/* A message's length from its fixed head: the header fields' array padded to 8, and the body. */
static bool head_length(const uint8_t h[GATE_HEAD], uint64_t *ret) {
        uint32_t body, fields;

        if (h[0] == 'l') {
                body = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t) h[7] << 24;
                fields = h[12] | h[13] << 8 | h[14] << 16 | (uint32_t) h[15] << 24;
        } else if (h[0] == 'B') {
                body = (uint32_t) h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
                fields = (uint32_t) h[12] << 24 | h[13] << 16 | h[14] << 8 | h[15];
        } else
                return false;
        *ret = ((GATE_HEAD + (uint64_t) fields + 7) & ~7ULL) + body - GATE_HEAD;
        return *ret + GATE_HEAD <= GATE_MESSAGE_MAX;
}

static void follow_auth(P2PGate *g, uint8_t c) {
        if (g->line_match < sizeof auth_begin - 1 && c == (uint8_t) auth_begin[g->line_match])
                g->line_match++;
        else
                g->line_match = SIZE_MAX;
        if (c != '\n')
                return;
        g->authenticated = g->line_match == sizeof auth_begin - 1;
        g->line_match = 0;
}

/* Follows a chunk through the stream; n_fds came with its first byte, so they belong to the
 * message that byte is in. NULL, or why the peer must go. */
static const char *gate_follow(P2PGate *g, const uint8_t *p, size_t n, size_t n_fds) {
        if (n_fds > 0) {
                if (!g->authenticated)
                        return "it sent file descriptors while authenticating";
                if (g->head_len == 0)
                        g->message_fds = 0;
                g->message_fds += n_fds;
                if (g->message_fds > P2P_MESSAGE_FDS)
                        return "a message of it carried more than 16 file descriptors";
        }
        for (size_t i = 0; i < n;) {
                size_t k;

                if (!g->authenticated) {
                        follow_auth(g, p[i++]);
                        continue;
                }
                if (g->head_len < GATE_HEAD) {
                        if (g->head_len == 0 && i > 0)
                                g->message_fds = 0;
                        k = MIN(GATE_HEAD - g->head_len, n - i);
                        memcpy(g->head + g->head_len, p + i, k);
                        g->head_len += k;
                        i += k;
                        if (g->head_len == GATE_HEAD && !head_length(g->head, &g->left))
                                return "it sent a message with a bad or oversized header";
                        if (g->head_len == GATE_HEAD && g->left == 0) {
                                g->head_len = 0;
                                g->completed = true;
                        }
                        continue;
                }
                k = (size_t) MIN(g->left, (uint64_t) (n - i));
                g->left -= k;
                i += k;
                if (g->left == 0) {
                        g->head_len = 0;
                        g->completed = true;
                }
        }
        return NULL;
}

/* Passes the chunk on; when sd-bus' side is full, waits for it before reading on. */
static int gate_flush(P2PGate *g) {
        while (g->off < g->len) {
                GateControl control = {};
                struct iovec iov = { .iov_base = g->chunk + g->off, .iov_len = g->len - g->off };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t k;

                if (g->n_fds > 0) {
                        struct cmsghdr *c;

                        mh.msg_control = &control;
                        mh.msg_controllen = CMSG_SPACE(sizeof(int) * g->n_fds);
                        c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int) * g->n_fds);
                        memcpy(CMSG_DATA(c), g->fds, sizeof(int) * g->n_fds);
                }
                k = sendmsg(g->bus_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        (void) sd_event_source_set_enabled(g->in, SD_EVENT_OFF);
                        return sd_event_source_set_enabled(g->out, SD_EVENT_ON);
                }
                if (k < 0)
                        return -errno;
                gate_close_fds(g);      /* sd-bus has them now */
                g->off += (size_t) k;
        }
        g->len = g->off = 0;
        (void) sd_event_source_set_enabled(g->out, SD_EVENT_OFF);
        return sd_event_source_set_enabled(g->in, SD_EVENT_ON);
}

/* A message begun: the peer has P2P_PARTIAL_TIMEOUT_USEC to finish it (from the end of the one
 * before, when a chunk ended one and began the next). */
static void gate_update_timer(P2PGate *g) {
        bool restart = g->completed;
        uint64_t now;

        g->completed = false;
        if (g->head_len == 0) {
                (void) sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
                return;
        }
        if (!restart && sd_event_source_get_enabled(g->timer, NULL) > 0)
                return;
        if (sd_event_now(sd_event_source_get_event(g->timer), CLOCK_MONOTONIC, &now) >= 0)
                (void) sd_event_source_set_time(g->timer, now + P2P_PARTIAL_TIMEOUT_USEC);
        (void) sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT);
}

static int gate_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        P2PGate *g = userdata;

        /* Not the peer's fault while sd-bus has not taken what came. */
        if (g->len > g->off) {
                (void) sd_event_source_set_time(s, usec + P2P_PARTIAL_TIMEOUT_USEC);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        gate_fail(g, "it left a message unfinished for 30 s");
        return 0;
}

static int gate_on_in(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        P2PGate *g = userdata;
        GateControl control;
        struct iovec iov = { .iov_base = g->chunk, .iov_len = sizeof g->chunk };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        const char *why;
        ssize_t k;
        int r;

        k = recvmsg(g->peer_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k < 0 && IN_SET(errno, EAGAIN, EINTR))
                return 0;
        if (k < 0) {
                gate_fail(g, "its socket failed");
                return 0;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                        for (size_t i = 0; i < n; i++) {
                                int f;

                                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (g->n_fds < P2P_MESSAGE_FDS)
                                        g->fds[g->n_fds++] = f;
                                else
                                        safe_close(f);
                        }
                }
        if (mh.msg_flags & MSG_CTRUNC) {
                /* The kernel closed the fds that did not fit. */
                gate_fail(g, "a message of it carried more than 16 file descriptors (or imapid had none left)");
                return 0;
        }
        if (k == 0) {
                gate_close_fds(g);
                gate_end(g);
                return 0;
        }
        why = gate_follow(g, g->chunk, (size_t) k, g->n_fds);
        if (why) {
                gate_fail(g, why);
                return 0;
        }
        g->len = (size_t) k;
        g->off = 0;
        r = gate_flush(g);
        if (r < 0)
                gate_fail(g, "imapid could not pass its messages on");
        else
                gate_update_timer(g);
        return 0;
}

static int gate_on_out(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        P2PGate *g = userdata;

        if (gate_flush(g) < 0)
                gate_fail(g, "imapid could not pass its messages on");
        return 0;
}

int p2p_gate_new(sd_event *event, int peer_fd, p2p_gate_fail_fn fail, void *userdata, P2PGate **ret,
                 int *ret_bus_fd) {
        P2PGate *g;
        int pair[2], r;

        g = calloc(1, sizeof(P2PGate));
        if (!g) {
                safe_close(peer_fd);
                return -ENOMEM;
        }
        g->peer_fd = peer_fd;
        g->bus_fd = -1;
        g->fail = fail;
        g->userdata = userdata;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                goto fail;
        }
        g->bus_fd = pair[0];
        r = sd_event_add_io(event, &g->in, peer_fd, EPOLLIN, gate_on_in, g);
        if (r >= 0)
                r = sd_event_add_io(event, &g->out, g->bus_fd, EPOLLOUT, gate_on_out, g);
        if (r >= 0)
                r = sd_event_source_set_enabled(g->out, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(event, &g->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, gate_on_timer, g);
        if (r >= 0)
                r = sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
        if (r < 0) {
                safe_close(pair[1]);
                goto fail;
        }
        *ret = g;
        *ret_bus_fd = pair[1];
        return 0;
fail:
        p2p_gate_free(g);
        return r;
}
