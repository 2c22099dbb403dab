/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the peer-to-peer socket (bus/p2p.c and the gate that reads it, bus/p2p-gate.c, both
 * included as they are, so that libFuzzer sees their branches): the input is every byte a
 * client sends on a connection imapid accepted, from the first (the SASL handshake, which
 * sd-bus parses as the server) through the D-Bus messages after BEGIN, which reach the minimal
 * bus driver and the daemon's objects (a Manager with no recorders, a stash in a temporary
 * folder). The connection is then closed from the client's side. Invariants: imapid answers or
 * drops the peer and never crashes; once the client is gone, so is its peer and everything it
 * held (no peer, client, disc master or job remains), whatever it asked for before.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus/p2p-gate.c"
#include "bus/p2p.c"
#include "core/config.h"
#include "core/manager.h"
#include "core/worker.h"
#include "fuzz-tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sd_event *event;
static Config config;
static Manager *manager;
static BusDaemon *daemon_;
static P2PServer *server;
static char stash_dir[] = "/tmp/fuzz-p2p.XXXXXX";

static void setup(void) {
        fuzz_tmpdir_make(stash_dir);
        log_set_max_level(LOG_CRIT);
        config_init(&config);
        config.scan = false;
        free(config.default_drive);
        config.default_drive = NULL;
        free(config.stash_dir);
        config.stash_dir = strdup(stash_dir);
        config.hotplug_interval_usec = 0;
        config.peer_idle_timeout_usec = 0;
        if (!config.stash_dir || sd_event_new(&event) < 0 || manager_new(event, &config, &manager) < 0 ||
            bus_daemon_new(manager, &daemon_) < 0)
                abort();
        /* p2p_listen() without socket activation: the server and its post source. */
        server = calloc(1, sizeof(P2PServer));
        if (!server)
                abort();
        server->daemon = daemon_;
        daemon_->p2p = server;
        if (sd_id128_randomize(&server->id) < 0 ||
            sd_event_add_post(event, &server->post, p2p_on_post, server) < 0)
                abort();
}

/* What the server sent back is read and dropped, so that it never blocks on a full socket. */
static void drain(int fd) {
        char buf[4096];

        while (read(fd, buf, sizeof buf) > 0)
                ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t done = 0;
        int fds[2];

        if (!event)
                setup();
        if (size > 256 * 1024)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                abort();
        if (peer_start(server, (gid_t) -1, fds[0]) < 0 || server->n_peers != 1)
                abort();

        /* The bytes as the socket takes them, the daemon working between writes. */
        for (unsigned spins = 0; done < size && spins < 10000; spins++) {
                ssize_t n = write(fds[1], data + done, size - done);

                if (n > 0)
                        done += (size_t) n;
                else if (n < 0 && errno != EAGAIN)
                        break;
                (void) sd_event_run(event, 0);
                drain(fds[1]);
                if (server->n_peers == 0)
                        break;
        }
        (void) shutdown(fds[1], SHUT_WR);
        for (unsigned spins = 0; server->n_peers > 0 && spins < 10000; spins++) {
                (void) sd_event_run(event, 0);
                drain(fds[1]);
        }
        /* A peer that does not see the end of its input in that time is a hang. */
        if (server->n_peers != 0)
                abort();
        /* Let the worker threads of anything the peer started come back. */
        for (unsigned spins = 0; worker_running(manager->worker) > 0 && spins < 100000; spins++)
                (void) sd_event_run(event, 1000);
        if (manager->n_clients != 0 || manager->n_masters != 0 || manager->n_jobs != 0)
                abort();
        safe_close(fds[1]);
        return 0;
}
