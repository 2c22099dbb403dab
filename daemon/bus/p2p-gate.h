/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read side of a peer-to-peer connection, between the peer's socket and sd-bus, so that a
 * peer cannot make imapid hold more file descriptors than its share. sd-bus keeps every fd that
 * arrives with a message until the message is complete, and a peer can send a header and then
 * any number of sendmsg() calls of SCM_MAX_FD fds each without ever finishing it; sd-bus offers
 * no way to see or bound these. The gate receives from the peer with a control buffer of a
 * bounded size, follows the stream (the authentication lines, then each message's length from
 * its header) and passes bytes and fds on to sd-bus through a socket pair. As dbus-daemon's
 * max_message_unix_fds and pending_fd_timeout do: a message that brings more than
 * P2P_MESSAGE_FDS fds, or that stays incomplete for P2P_PARTIAL_TIMEOUT_USEC, closes the
 * connection.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#define P2P_MESSAGE_FDS 16u                             /* as the system bus' max_message_unix_fds */
#define P2P_PARTIAL_TIMEOUT_USEC (30ULL * 1000000ULL)   /* a message begun and not finished */

typedef struct P2PGate P2PGate;

/* Called once when the gate gives up on the peer (why: a sentence for the log); the gate has
 * then shut down sd-bus' side, so that sd-bus sees the end of the connection. */
typedef void (*p2p_gate_fail_fn)(void *userdata, const char *why);

/* Reads from peer_fd (a dup, owned by the gate from now on, also on failure); *ret_bus_fd is
 * the end that sd-bus reads from (the caller's). */
int p2p_gate_new(sd_event *event, int peer_fd, p2p_gate_fail_fn fail, void *userdata, P2PGate **ret,
                 int *ret_bus_fd);
P2PGate *p2p_gate_free(P2PGate *g);
