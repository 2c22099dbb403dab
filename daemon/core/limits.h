/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What imapid can afford to give its clients, derived from its file descriptor budget (the
 * soft RLIMIT_NOFILE it runs with) so that no client can make it run out of descriptors: every
 * open disc master holds its stash directory (and, while it stages, the copy being written),
 * every peer-to-peer connection is a socket (and what its next message brings), and a call in progress (AddData, or any call waiting for polkit's
 * answer) holds the fds it carries until it is done. A fixed reserve stays free for the rest: the event loop, the bus,
 * the journal, the drives and their jobs, and the next message being read (one sendmsg()
 * carries at most SCM_MAX_FD descriptors, and a broker sends each message in one).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Config Config;

#define LIMITS_BASE_FDS 128u            /* stdio, the loop's sources, the bus, the journal, libraries */
#define LIMITS_RECORDER_FDS 8u          /* a drive's nodes, a job's image and verification reads */
#define LIMITS_SCANNED_RECORDERS 32u    /* /dev/sr0 to /dev/sr31, which hotplug may find */
#define LIMITS_MESSAGE_FDS 253u         /* SCM_MAX_FD: what one incoming message may bring */
#define LIMITS_MASTER_FDS 3u            /* the stash directory; its pack of small files (Joliet)
                                         * or the open audio track (Redbook); the copy being
                                         * written or AddAudioTrackBlocksFromFd's source */
#define LIMITS_MIN_CALL_FDS 16u         /* at least one full message of the system bus */
#define LIMITS_PEER_FDS 20u             /* a peer-to-peer connection: its socket, imapid's copy of it
                                         * and the pair to sd-bus (bus/p2p-gate.h), and the 16 fds
                                         * its unfinished message may bring */

typedef struct Limits {
        uint64_t nofile;                /* the budget */
        unsigned max_masters;           /* disc masters in all */
        unsigned max_peers;             /* peer-to-peer connections */
        unsigned max_call_fds;          /* descriptors that calls in progress may hold */
        bool clamped;                   /* the budget lowered a configured limit */
} Limits;

/* The fds that stay reserved whatever clients do, for n_drives configured drives. */
uint64_t limits_reserved_fds(size_t n_drives);
/* The smallest budget limits_derive() accepts. */
uint64_t limits_min_fds(const Config *c);
/* Derives the limits from the budget and the configured maxima: -EMFILE when nofile cannot hold
 * even the reserve and one disc master, peer and message. */
int limits_derive(const Config *c, uint64_t nofile, Limits *ret);
/* The smallest budget in which the configured maxima all fit (what LimitNOFILE= should be). */
uint64_t limits_needed_fds(const Config *c);
/* Says what the budget allows; a notice where it lowered a configured limit. */
void limits_log(const Limits *l, const Config *c);
