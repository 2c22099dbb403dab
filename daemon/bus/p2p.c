/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-to-peer D-Bus: the listening sockets from socket activation, and one sd_bus server per
 * accepted peer (as systemd's PID 1 does on /run/systemd/private and BlueChi on its socket).
 * A peer connection has no bus driver, so messages carry no sender: bus_client_get() knows
 * such a client by its connection, and the peer's credentials (SO_PEERCRED, SO_PEERGROUPS,
 * taken at accept time) decide what it may do.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-util.h"
#include "bus/p2p-gate.h"
#include "bus/p2p.h"
#include "core/config.h"
#include "core/limits.h"
#include "log.h"
#include "macro.h"

#define DBUS_DRIVER_NAME "org.freedesktop.DBus"
#define DBUS_DRIVER_PATH "/org/freedesktop/DBus"

typedef struct Listener {
        P2PServer *server;
        sd_event_source *source;        /* owns the fd */
        sd_event_source *resume;        /* after running out of fds: when to accept again */
} Listener;

typedef struct Peer {
        P2PServer *server;
        sd_bus *bus;
        P2PGate *gate;                  /* what sd-bus reads comes through it */
        sd_bus_slot *disconnected_slot;
        sd_event_source *timeout;       /* see peer_on_timeout() */
        uint64_t last_message;          /* CLOCK_MONOTONIC; 0 before the first */
        unsigned id;
        struct ucred ucred;
        bool allowed;                   /* root, or in the socket file's group */
} Peer;

struct P2PServer {
        BusDaemon *daemon;
        sd_id128_t id;
        Listener *listeners;
        size_t n_listeners;
        Peer **peers;
        size_t n_peers;
        unsigned next_peer_id;
        sd_event_source *post;          /* see p2p_on_post() */
};

static Peer *peer_free(Peer *p) {
        if (!p)
                return NULL;
        sd_bus_slot_unref(p->disconnected_slot);
        sd_event_source_disable_unref(p->timeout);
        p2p_gate_free(p->gate);
        if (p->bus) {
                (void) sd_bus_detach_event(p->bus);
                /* No flush: a peer that stopped reading must not stall the daemon. */
                sd_bus_close_unref(p->bus);
        }
        free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Peer *, peer_free);

/* Everything the peer held goes with its connection. */
static void peer_gone(Peer *p) {
        P2PServer *s = p->server;
        BusDaemon *d = s->daemon;

        for (size_t i = 0; i < s->n_peers; i++)
                if (s->peers[i] == p) {
                        memmove(s->peers + i, s->peers + i + 1, (s->n_peers - i - 1) * sizeof(Peer *));
                        s->n_peers--;
                        break;
                }
        log_debug("Peer %u (uid %u) disconnected.", p->id, (unsigned) p->ucred.uid);
        bus_client_peer_gone(d, p->bus);
        bus_daemon_detach(d, p->bus);
        peer_free(p);
}

/* The gate has ended sd-bus' side: the Disconnected signal follows. */
static void peer_on_gate_fail(void *userdata, const char *why) {
        Peer *p = userdata;

        log_warning("Closing peer %u (uid %u): %s.", p->id, (unsigned) p->ucred.uid, why);
}

_Static_assert(P2P_MESSAGE_FDS + 4 <= LIMITS_PEER_FDS, "a peer's fds are in the budget");

/* One server at a time; bus_message_get_uid() asks it about peer connections. */
static P2PServer *uid_server;

static int peer_uid_lookup(sd_bus *bus, uid_t *ret) {
        for (size_t i = 0; uid_server && i < uid_server->n_peers; i++)
                if (uid_server->peers[i]->bus == bus) {
                        *ret = uid_server->peers[i]->ucred.uid;
                        return 1;
                }
        return 0;
}

static int peer_on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        peer_gone(userdata);
        return 0;
}

/* Only a bus driver sets senders. A peer that sets one would otherwise make sd-bus look its
 * credentials up by that name, and bus_client_get() take it for a bus client. */
static int peer_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Peer *p = userdata;

        (void) sd_event_now(p->server->daemon->event, CLOCK_MONOTONIC, &p->last_message);
        if (!sd_bus_message_get_sender(m) || !sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED,
                                          "A peer-to-peer message must not carry a sender.");
        return 1;
}

/* A minimal bus driver, so that bus clients (busctl --address=, sd-bus with bus_client set)
 * can talk to a peer connection: Hello gives them a unique name, AddMatch is a no-op because
 * a peer receives every signal anyway, and imapid's well-known name stands for its owner. */
static int driver_hello(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Peer *p = userdata;
        char name[32];

        snprintf(name, sizeof name, ":1.%u", p->id);
        return sd_bus_reply_method_return(m, "s", name);
}

static bool driver_name_is_ours(const char *name) {
        return streq(name, IMAPI_BUS_NAME) || streq(name, DBUS_DRIVER_NAME);
}

static int driver_get_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!driver_name_is_ours(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER, "Name \"%s\" does not exist.",
                                         name);
        return sd_bus_reply_method_return(m, "s", name);
}

static int driver_name_has_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "b", driver_name_is_ours(name));
}

static int driver_list_names(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, "as", 2, DBUS_DRIVER_NAME, IMAPI_BUS_NAME);
}

static int driver_get_id(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Peer *p = userdata;
        char s[SD_ID128_STRING_MAX];

        return sd_bus_reply_method_return(m, "s", sd_id128_to_string(p->server->id, s));
}

static int driver_match(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Hello", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", unique_name), driver_hello,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNameOwner", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", owner),
                                driver_get_name_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("NameHasOwner", SD_BUS_ARGS("s", name), SD_BUS_RESULT("b", has_owner),
                                driver_name_has_owner, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNames", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", names), driver_list_names,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetId", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", id), driver_get_id,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddMatch", SD_BUS_ARGS("s", rule), SD_BUS_NO_RESULT, driver_match,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveMatch", SD_BUS_ARGS("s", rule), SD_BUS_NO_RESULT, driver_match,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* A peer that holds nothing (no recorder, disc master or job) must not keep a connection slot
 * that others need: it is closed when it has made no call within the first-call timeout (a
 * tenth of PeerIdleTimeoutSec, at most 10 s) or stayed silent for PeerIdleTimeoutSec. */
static uint64_t peer_first_call_usec(const P2PServer *s) {
        return MIN(s->daemon->manager->config->peer_idle_timeout_usec / 10, 10 * 1000000ULL);
}

static int peer_on_timeout(sd_event_source *source, uint64_t now, void *userdata) {
        Peer *p = userdata;
        P2PServer *s = p->server;
        uint64_t idle = s->daemon->manager->config->peer_idle_timeout_usec;

        if (bus_client_on_bus(s->daemon, p->bus) || (p->last_message > 0 && now < p->last_message + idle)) {
                (void) sd_event_source_set_time(source, MAX(now, p->last_message) + idle);
                return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        }
        log_info("Closing peer %u (uid %u): %s.", p->id, (unsigned) p->ucred.uid,
                 p->last_message == 0 ? "it made no call in time" : "idle, holding nothing");
        peer_gone(p);
        return 0;
}

/* A quarter of the peer connections per user, so that one cannot take them all (root, who
 * administers imapid, only MaxClients). */
static bool peer_over_share(const P2PServer *s, uid_t uid) {
        size_t n = 0;

        if (uid == 0)
                return false;
        for (size_t i = 0; i < s->n_peers; i++)
                n += s->peers[i]->ucred.uid == uid;
        return n >= MAX(s->daemon->manager->limits.max_peers / 4, 1u);
}

static bool peer_in_group(int fd, const struct ucred *ucred, gid_t gid) {
        gid_t groups[256];
        socklen_t len = sizeof groups;

        if (gid == (gid_t) -1)
                return false;
        if (ucred->gid == gid)
                return true;
        /* The peer's supplementary groups as of connect(), from the kernel: no /proc race. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

static int peer_start(P2PServer *s, gid_t socket_gid, int fd) {
        _cleanup_(peer_freep) Peer *p = NULL;
        _cleanup_close_ int fd_close = fd;
        socklen_t len = sizeof(struct ucred);
        int dup_fd, bus_fd;
        Peer **list;
        char description[32];
        int r;

        p = calloc(1, sizeof(Peer));
        if (!p)
                return -ENOMEM;
        p->server = s;
        p->id = ++s->next_peer_id;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p->ucred, &len) < 0)
                return -errno;
        if (peer_over_share(s, p->ucred.uid)) {
                log_warning("Refusing a peer-to-peer connection of uid %u: it has a quarter of the %u "
                            "connections imapid serves.", (unsigned) p->ucred.uid,
                            s->daemon->manager->limits.max_peers);
                return 0;
        }
        p->allowed = p->ucred.uid == 0 || peer_in_group(fd, &p->ucred, socket_gid);

        r = sd_bus_new(&p->bus);
        if (r < 0)
                return r;
        snprintf(description, sizeof description, "peer-%u", p->id);
        (void) sd_bus_set_description(p->bus, description);
        /* sd-bus reads through the gate, so the credentials it sees are imapid's own: the peer's
         * were taken above, from the socket, and bus_message_get_uid() gives them; the
         * authentication exchange cannot check them again (anonymous). */
        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        r = p2p_gate_new(s->daemon->event, dup_fd, peer_on_gate_fail, p, &p->gate, &bus_fd);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(p->bus, bus_fd, fd);
        if (r < 0) {
                safe_close(bus_fd);
                return r;
        }
        TAKE_FD(fd_close);
        r = sd_bus_set_server(p->bus, 1, s->id);
        if (r < 0)
                return r;
        r = sd_bus_set_anonymous(p->bus, 1);
        if (r < 0)
                return r;
        r = sd_bus_negotiate_fds(p->bus, 1);
        if (r < 0)
                return r;
        r = sd_bus_negotiate_creds(p->bus, 1, SD_BUS_CREDS_PID | SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID |
                                              SD_BUS_CREDS_GID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS);
        if (r < 0)
                return r;
        /* Replies and signals come from imapid's name, as on the bus, so clients' matches on the
         * sender work the same way. */
        r = sd_bus_set_sender(p->bus, IMAPI_BUS_NAME);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(p->bus, NULL, peer_filter, p);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(p->bus, NULL, DBUS_DRIVER_PATH, DBUS_DRIVER_NAME, driver_vtable, p);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(p->bus, &p->disconnected_slot, "org.freedesktop.DBus.Local",
                                "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local", "Disconnected",
                                peer_on_disconnected, p);
        if (r < 0)
                return r;
        r = sd_bus_start(p->bus);
        if (r < 0)
                return r;
        r = bus_daemon_attach(s->daemon, p->bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(p->bus, s->daemon->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0 && s->daemon->manager->config->peer_idle_timeout_usec > 0)
                r = sd_event_add_time_relative(s->daemon->event, &p->timeout, CLOCK_MONOTONIC,
                                               peer_first_call_usec(s), 0, peer_on_timeout, p);
        if (r < 0) {
                bus_daemon_detach(s->daemon, p->bus);
                return r;
        }

        list = realloc(s->peers, (s->n_peers + 1) * sizeof(Peer *));
        if (!list) {
                bus_daemon_detach(s->daemon, p->bus);
                return -ENOMEM;
        }
        s->peers = list;
        log_debug("Peer %u connected: pid %d, uid %u%s.", p->id, (int) p->ucred.pid, (unsigned) p->ucred.uid,
                  p->allowed ? "" : " (not in the socket's group: reading only)");
        s->peers[s->n_peers++] = TAKE_PTR(p);
        return 0;
}

/* The group of the socket file: its members may do what root may. Read at each connection,
 * so that a change of the group applies to the next client. */
static gid_t socket_file_gid(int fd) {
        struct sockaddr_un sa = {};
        socklen_t len = sizeof sa;
        struct stat st;

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0 || sa.sun_family != AF_UNIX ||
            len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] != '/')
                return (gid_t) -1;
        sa.sun_path[sizeof sa.sun_path - 1] = 0;
        if (stat(sa.sun_path, &st) < 0)
                return (gid_t) -1;
        return st.st_gid;
}

/* libdbus sends its first call right behind the end of the handshake. sd-bus reads both from
 * the socket while authenticating, but parses the call only when the socket becomes readable
 * again, which it may never do. So after every loop iteration, let each peer connection work
 * through what it has buffered. */
static int p2p_on_post(sd_event_source *source, void *userdata) {
        P2PServer *s = userdata;

        for (size_t i = s->n_peers; i > 0; i--) {
                sd_bus *bus;
                int r;

                if (i > s->n_peers)     /* peers may go away while processing */
                        continue;
                bus = sd_bus_ref(s->peers[i - 1]->bus);
                for (unsigned n = 0; n < 64; n++) {
                        r = sd_bus_process(bus, NULL);
                        if (r <= 0)
                                break;
                }
                sd_bus_unref(bus);
        }
        return 0;
}

static int listener_on_resume(sd_event_source *source, uint64_t usec, void *userdata) {
        Listener *l = userdata;

        l->resume = sd_event_source_disable_unref(l->resume);
        return sd_event_source_set_enabled(l->source, SD_EVENT_ON);
}

/* A connection that cannot be accepted stays in the backlog and keeps the socket readable: stop
 * watching it for a second rather than spin. The fd budget (limits.h) keeps this from
 * happening; it is the last line. */
static void listener_pause(Listener *l, int error) {
        log_warning_errno(error, "Failed to accept a peer-to-peer connection, pausing for a second: %m");
        if (l->resume)
                return;
        if (sd_event_add_time_relative(sd_event_source_get_event(l->source), &l->resume, CLOCK_MONOTONIC,
                                       1000000, 0, listener_on_resume, l) >= 0)
                (void) sd_event_source_set_enabled(l->source, SD_EVENT_OFF);
}

static int listener_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;
        P2PServer *s = l->server;
        int nfd, r;

        nfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (nfd < 0) {
                if (IN_SET(errno, EAGAIN, EINTR, ECONNABORTED))
                        return 0;
                if (IN_SET(errno, EMFILE, ENFILE, ENOBUFS, ENOMEM))
                        listener_pause(l, errno);
                else
                        log_warning_errno(errno, "Failed to accept a peer-to-peer connection, ignoring: %m");
                return 0;
        }
        if (s->n_peers >= s->daemon->manager->limits.max_peers) {
                log_warning("Too many peer-to-peer connections (%zu, within MaxClients and the file "
                            "descriptor limit), refusing another.", s->n_peers);
                safe_close(nfd);
                return 0;
        }
        r = peer_start(s, socket_file_gid(fd), nfd);
        if (r < 0)
                log_warning_errno(r, "Failed to set up a peer-to-peer connection, ignoring it: %m");
        return 0;
}

int p2p_listen(BusDaemon *d) {
        P2PServer *s;
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets passed by the service manager: %m");
        if (n == 0)
                return 0;

        s = calloc(1, sizeof(P2PServer));
        if (!s)
                return log_oom();
        s->daemon = d;
        d->p2p = s;
        s->listeners = calloc(n, sizeof(Listener));
        if (!s->listeners)
                return log_oom();
        r = sd_id128_randomize(&s->id);
        if (r < 0)
                return log_error_errno(r, "Failed to generate a server id: %m");

        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                Listener *l = &s->listeners[s->n_listeners];

                r = sd_is_socket(fd, AF_UNIX, SOCK_STREAM, 1);
                if (r <= 0) {
                        log_error("File descriptor %d passed by the service manager is not a listening "
                                  "AF_UNIX stream socket.", fd);
                        return -EINVAL;
                }
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                l->server = s;
                r = sd_event_add_io(d->event, &l->source, fd, EPOLLIN, listener_on_io, l);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the peer-to-peer socket: %m");
                (void) sd_event_source_set_io_fd_own(l->source, true);
                s->n_listeners++;
        }
        uid_server = s;
        bus_set_uid_lookup(peer_uid_lookup);
        r = sd_event_add_post(d->event, &s->post, p2p_on_post, s);
        if (r < 0)
                return log_error_errno(r, "Failed to set up peer-to-peer processing: %m");
        log_debug("Serving peer-to-peer D-Bus on %d socket(s).", n);
        return n;
}

void p2p_done(BusDaemon *d) {
        P2PServer *s = d->p2p;

        if (!s)
                return;
        while (s->n_peers > 0)
                peer_gone(s->peers[s->n_peers - 1]);
        free(s->peers);
        sd_event_source_disable_unref(s->post);
        for (size_t i = 0; i < s->n_listeners; i++) {
                sd_event_source_disable_unref(s->listeners[i].resume);
                sd_event_source_disable_unref(s->listeners[i].source);
        }
        free(s->listeners);
        bus_set_uid_lookup(NULL);
        uid_server = NULL;
        free(s);
        d->p2p = NULL;
}

size_t p2p_peer_count(const BusDaemon *d) {
        return d->p2p ? d->p2p->n_peers : 0;
}

int p2p_peer_allowed(const BusDaemon *d, sd_bus *bus) {
        if (!d->p2p)
                return -ENOENT;
        for (size_t i = 0; i < d->p2p->n_peers; i++)
                if (d->p2p->peers[i]->bus == bus)
                        return d->p2p->peers[i]->allowed;
        return -ENOENT;
}
