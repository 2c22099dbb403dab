/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside the stash (stash.h): what stash.c, stash-location.c and stash-copy.c share. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "media/stash.h"

#define MIB (UINT64_C(1024) * 1024)

struct Stash {
        char *path;
        int dir_fd; /* holds the flock for as long as the stash lives */
        dev_t dev;
        uint64_t reserved; /* under reservations_lock */
        uint32_t counter;  /* atomic: the last copy id given out */
        uint32_t tag;      /* random, so that names differ from those of an earlier stash of this name */
        bool no_reflink;   /* atomic: the stash's file system said it cannot clone */
        /* The pack (stash-pack.c): used by one batch at a time, or by the disposal of the
         * staging, never both (see stash.h). */
        int pack_fd;       /* -1 while there is no pack */
        uint64_t pack_end; /* where the next packed file goes (a multiple of STASH_PACK_ALIGN) */
        uint64_t pack_limit; /* the end of what the running batch set aside */
        Stash *next, *prev;
};

