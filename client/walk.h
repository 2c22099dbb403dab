/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Walking the files and folders named on imapictl's command line into (name on the disc, fd)
 * entries for AddData, the way `cp -r` would place them at the root of the disc. Only the
 * directories on the current path are held open, so 100,000-file trees need a handful of fds.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* How deep a tree may go before the walk gives up with a clear error. Rock Ridge has no depth
 * limit and the Joliet tree is adapted (names.h); this only bounds the fds held open. */
#define WALK_DEPTH_MAX 64

typedef struct Walker Walker;

typedef struct WalkEntry {
        char *name;             /* the path on the disc, without a leading slash */
        int fd;                 /* -1 unless the walker opens files */
        bool is_dir;            /* an empty folder, passed as a directory fd */
        uint64_t size;
} WalkEntry;

/* Symbolic links named on the command line are followed; inside trees they are skipped with a
 * warning (a disc has no links, and following them could leave the tree or loop). Devices,
 * FIFOs and sockets inside trees are skipped with a warning too. With open_files, every entry
 * comes with an open O_CLOEXEC fd; without, the walk only names and sizes them (a dry run). */
int walker_new(char *const *paths, bool open_files, bool warn, Walker **ret);
Walker *walker_free(Walker *w);

/* The next entry: 1 with *ret filled (the caller owns name and fd), 0 at the end, or a negative
 * errno after printing what went wrong and which file it concerns. */
int walker_next(Walker *w, WalkEntry *ret);

void walk_entry_done(WalkEntry *e);

static inline void walker_freep(Walker **w) {
        walker_free(*w);
}
