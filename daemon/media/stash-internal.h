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
        Stash *next, *prev;
};

