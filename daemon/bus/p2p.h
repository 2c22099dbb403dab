/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer-to-peer D-Bus on the sockets systemd passes (imapid.socket): one sd_bus server
 * connection per accepted peer, serving the same objects as the bus.
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "bus/bus-daemon.h"

/* Takes the listening sockets from sd_listen_fds() and serves them. Returns the number of
 * sockets (0 when not socket-activated, and then d->p2p stays NULL). */
int p2p_listen(BusDaemon *d);
/* Closes every peer connection and the listening sockets. */
void p2p_done(BusDaemon *d);

size_t p2p_peer_count(const BusDaemon *d);

/* For authorization: 1 when bus is a peer connection of root or of a member of the socket
 * file's group, 0 for another peer, -ENOENT when bus is not a peer connection. */
int p2p_peer_allowed(const BusDaemon *d, sd_bus *bus);
