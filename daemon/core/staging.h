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
#include <time.h>

#include "strmap.h"
#include "strpool.h"

/* 40 bytes: a tree of 100,000 files keeps 100,000 of these. */
typedef struct StagedEntry {
        const char *image_path; /* normalized, no leading "/"; in Staging.names */
        uint32_t copy;          /* the copy in the stash (stash_copy_in's id); 0 for a directory */
        mode_t mode;
        uint64_t size;
        uint64_t cost;          /* bytes of stash disk the copy takes */
        uint64_t mtime_usec;
} StagedEntry;

/* A Joliet disc master's El Torito boot image (master-boot.c): IMAPI's boot properties and the
 * image's copy in the stash. Part of the staged content: cleared with it, and by a burn. */
typedef struct StagedBoot {
        bool place;             /* PlaceBootImageOnDisc */
        uint8_t platform;       /* BootImagePlatform: 0 x86, 1 PowerPC, 2 Mac, 0xEF EFI */
        uint8_t emulation;      /* BootImageEmulationType: 0 none, 1..3 floppy, 4 hard disk */
        char manufacturer[25];  /* BootImageManufacturerIDString: up to 24 bytes */
        uint32_t copy;          /* the image in the stash; 0: none */
        uint64_t size;
        uint64_t cost;          /* counted in Staging.cost as well */
} StagedBoot;

typedef struct Staging {
        StagedEntry *entries;
        size_t n, allocated;
        StrPool names;          /* the entries' image paths */
        StrMap index;           /* image path -> entry index (keys: the entries' image_path); holds
                                 * every entry, or none after staging_drop_index() */
        StrMap dirs;            /* every directory (explicit or implied by a path), with its parents */
        uint64_t data_blocks;   /* file data, in 2048-byte blocks */
        uint64_t cost;          /* stash bytes in use, with the pack's replaced copies */
        uint64_t largest_file;
        StagedBoot boot;
        /* The time of the image of this content, fixed by its first burn, so that a retry or a
         * second copy generates the same image; 0 again once the content changes. */
        time_t image_time;
} Staging;

/* What a client asks to add: validated names, not yet copied. */
typedef struct StagingRequest {
        const char *image_path; /* normalized */
        bool is_dir;
        uint64_t size;
} StagingRequest;

void staging_init(Staging *s);
/* Frees the bookkeeping; remove_copy is called with every copy's id (may be NULL). */
void staging_clear(Staging *s, void (*remove_copy)(uint32_t copy, void *userdata), void *userdata);

/* A job that reads the staging lets nothing be added meanwhile, and building its image is when
 * memory peaks: the name index (a quarter of the bookkeeping) is freed for that time and rebuilt
 * by staging_ensure_index(), by the job's end or else by the next staging_check() or
 * staging_add(). */
void staging_drop_index(Staging *s);
/* The same, the index handed to the caller to be freed with strmap_done() (off the event loop:
 * the tables of 100,000 names are megabytes to unmap). */
void staging_take_index(Staging *s, StrMap *ret);
int staging_ensure_index(Staging *s);

/* Whether the batch can be added: returns 0, -ENOMEM, or -EEXIST with *ret_index set to the first
 * request that collides (an existing name without overwrite, a file where a directory is or
 * the reverse, a file used as a directory, a duplicate within the batch without overwrite). */
int staging_check(Staging *s, const StagingRequest *reqs, size_t n, bool overwrite, size_t *ret_index);

/* Blocks the image would take with the batch added (data plus an upper estimate of the ISO
 * 9660, Joliet and Rock Ridge directory structures). */
uint64_t staging_estimate_blocks(const Staging *s, const StagingRequest *reqs, size_t n);

/* Adds an entry (its image path is copied). A replaced file's copy is returned in
 * *ret_replaced (the caller deletes it; 0 if none); adding an existing directory is a no-op. */
int staging_add(Staging *s, StagedEntry *e, uint32_t *ret_replaced);

size_t staging_count(const Staging *s);

/* The boot image's copy (0: none) with its size and cost, counted in the data and cost; the copy
 * it replaces is returned (the caller deletes it; 0 if none). */
uint32_t staging_set_boot_copy(Staging *s, uint32_t copy, uint64_t size, uint64_t cost);
