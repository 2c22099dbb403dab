/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The staged content of a Joliet disc master: which name in the image is which file of the
 * stash. Pure bookkeeping (no I/O): name conflicts (IMAPI_E_FILEEXISTS), the size the image
 * will have (for IMAPI_E_DISCFULL), and the list handed to the image builder.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strmap.h"

typedef struct StagedEntry {
        char *image_path;       /* normalized, no leading "/" */
        char *stash_path;       /* the copy in the stash; NULL for a directory */
        uint64_t size;
        uint64_t cost;          /* bytes of stash disk the copy takes */
        mode_t mode;
        uint64_t mtime_usec;
} StagedEntry;

typedef struct Staging {
        StagedEntry *entries;
        size_t n, allocated;
        StrMap index;           /* image path -> entry index (keys: the entries' image_path) */
        StrMap dirs;            /* every directory (explicit or implied by a path) -> reference count */
        uint64_t data_blocks;   /* file data, in 2048-byte blocks */
        uint64_t cost;          /* stash bytes in use */
        uint64_t largest_file;
} Staging;

/* What a client asks to add: validated names, not yet copied. */
typedef struct StagingRequest {
        const char *image_path; /* normalized */
        bool is_dir;
        uint64_t size;
} StagingRequest;

void staging_init(Staging *s);
/* Frees the bookkeeping; remove_file is called with every stash path (may be NULL). */
void staging_clear(Staging *s, void (*remove_file)(const char *path, void *userdata), void *userdata);

/* Whether the batch can be added: returns 0, or -EEXIST with *ret_index set to the first
 * request that collides (an existing name without overwrite, a file where a directory is or
 * the reverse, a file used as a directory, a duplicate within the batch without overwrite). */
int staging_check(const Staging *s, const StagingRequest *reqs, size_t n, bool overwrite, size_t *ret_index);

/* Blocks the image would take with the batch added (data plus an upper estimate of the ISO
 * 9660, Joliet and Rock Ridge directory structures). */
uint64_t staging_estimate_blocks(const Staging *s, const StagingRequest *reqs, size_t n);

/* Adds an entry, taking ownership of its strings. A replaced file's stash path is returned in
 * *ret_replaced (the caller deletes the file); adding an existing directory is a no-op. */
int staging_add(Staging *s, StagedEntry *e, char **ret_replaced);

size_t staging_count(const Staging *s);
