/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limits imapid derives from its file descriptor budget (limits.h). */

#include <errno.h>

#include "core/config.h"
#include "core/limits.h"
#include "log.h"
#include "macro.h"

static size_t count_drives(const Config *c) {
        size_t n = 0;

        while (c->drives && c->drives[n])
                n++;
        return n + (c->default_drive ? 1 : 0);
}

uint64_t limits_reserved_fds(size_t n_drives) {
        return LIMITS_BASE_FDS + (uint64_t) LIMITS_RECORDER_FDS * (LIMITS_SCANNED_RECORDERS + n_drives) +
               LIMITS_MESSAGE_FDS;
}

uint64_t limits_min_fds(const Config *c) {
        return limits_reserved_fds(count_drives(c)) + 4 * MAX(LIMITS_MIN_CALL_FDS, LIMITS_PEER_FDS);
}

/* limits_derive() gives disc masters half of what is not reserved and peers a quarter. */
uint64_t limits_needed_fds(const Config *c) {
        return limits_reserved_fds(count_drives(c)) +
               MAX(2 * (uint64_t) LIMITS_MASTER_FDS * c->max_masters,
                   4 * (uint64_t) LIMITS_PEER_FDS * c->max_clients);
}

int limits_derive(const Config *c, uint64_t nofile, Limits *ret) {
        uint64_t reserved = limits_reserved_fds(count_drives(c)), avail, masters, peers;

        if (nofile < limits_min_fds(c))
                return -EMFILE;
        avail = nofile - reserved;
        /* Half for disc masters, a quarter for peers; calls in progress get what is left, at
         * least a quarter. */
        masters = MIN((uint64_t) c->max_masters, avail / 2 / LIMITS_MASTER_FDS);
        peers = MIN((uint64_t) c->max_clients, avail / 4 / LIMITS_PEER_FDS);
        *ret = (Limits) {
                .nofile = nofile,
                .max_masters = (unsigned) masters,
                .max_peers = (unsigned) peers,
                .max_call_fds = (unsigned) MIN(avail - masters * LIMITS_MASTER_FDS - peers * LIMITS_PEER_FDS,
                                               (uint64_t) UINT32_MAX),
                .clamped = masters < c->max_masters || peers < c->max_clients,
        };
        return 0;
}

void limits_log(const Limits *l, const Config *c) {
        if (l->clamped)
                log_notice("With %llu file descriptors imapid serves %u disc masters and %u peer connections "
                           "(MaxDiscMasters=%u, MaxClients=%u need LimitNOFILE=%llu).",
                           (unsigned long long) l->nofile, l->max_masters, l->max_peers, c->max_masters,
                           c->max_clients, (unsigned long long) limits_needed_fds(c));
        else
                log_debug("With %llu file descriptors: %u disc masters, %u peer connections, %u descriptors "
                          "for calls in progress.", (unsigned long long) l->nofile, l->max_masters,
                          l->max_peers, l->max_call_fds);
}
