/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO 9660 heads and the sessions of random-access media. An overwriteable disc (DVD+RW, DVD-RW
 * in restricted overwrite, DVD-RAM, BD-RE) or an image file has no table of contents of its own:
 * libburn reports it blank whatever it holds. xorriso and growisofs grow the file system instead,
 * and so does imapid, with the layout xorriso uses so that each reads the other's discs: the
 * first session starts at block 32, every later one at the next multiple of 32 after the end of
 * the one before, and the 64 KiB at block 0 (the "head") hold a copy of the newest session's
 * volume descriptors, whose volume size is the end of that session. Each session keeps its own
 * descriptors at its start, with its own size: following them from block 32 gives the sessions.
 *
 * Pure parsing; the caller reads the blocks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISOHEAD_BLOCKS 32u      /* the head: 64 KiB at block 0 */
#define ISOHEAD_ALIGN 32u       /* sessions start on 32-block boundaries (BD-RE clusters) */
#define ISOHEAD_FIRST_SESSION 32u
#define ISOHEAD_MAX_SESSIONS 128u

/* What a primary volume descriptor says (ECMA-119 8.4). */
typedef struct IsoVolume {
        uint32_t blocks;                /* volume space size */
        uint32_t root_extent;           /* the root directory's first block */
        uint32_t root_bytes;
        uint32_t path_table_extent;     /* the L path table */
        uint32_t path_table_bytes;
        char volume_id[33];             /* trailing spaces removed */
} IsoVolume;

typedef enum IsoHeadKind {
        ISOHEAD_BLANK,          /* all zeros, or an ISO 9660 volume invalidated by erasing (CDXX1) */
        ISOHEAD_ISO,            /* a primary volume descriptor at block 16 */
        ISOHEAD_FOREIGN,        /* data, but no ISO 9660 volume (UDF, a partition table, ...) */
} IsoHeadKind;

typedef struct IsoSession {
        uint32_t start;
        uint32_t blocks;
} IsoSession;

/* Parses a 2048-byte block as a primary volume descriptor: 1 if it is one, else 0. */
int isohead_parse_pvd(const uint8_t *block, IsoVolume *ret);

/* Classifies the first n_blocks (at most ISOHEAD_BLOCKS) of a medium. For ISOHEAD_ISO *ret is
 * the volume at block 16, whose size is the end of the newest session. */
IsoHeadKind isohead_classify(const uint8_t *head, size_t n_blocks, IsoVolume *ret);

/* Reads n blocks at lba into buf; returns 0 or a negative errno. */
typedef int (*isohead_read_fn)(uint32_t lba, uint8_t *buf, size_t n_blocks, void *userdata);

/* The sessions of an ISOHEAD_ISO medium whose head describes `head`, found by following the
 * session descriptors from block 32 as xorriso does (also finding growisofs' 16-block aligned
 * sessions). Without a credible chain (an image written at block 0 by mkisofs or growisofs -Z)
 * the medium is one session from block 0; a chain that breaks before the end ends with a session
 * from block 0 that covers all of it, as xorriso reports it. Sizes are clamped to `readable`
 * blocks. Returns the number of sessions (at least 1, at most max: a full list keeps the newest
 * last). */
size_t isohead_sessions(const IsoVolume *head, uint32_t readable, isohead_read_fn read, void *userdata,
                        IsoSession *ret, size_t max);

/* Where the next session goes after a volume that ends at block `end`. */
uint32_t isohead_next_writable(uint32_t end);

/* Turns every ISO 9660 volume descriptor among the head's blocks 16..31 into an invalid one
 * (CD001 becomes CDXX1, as xorriso's blanking does), so that readers see a blank medium while
 * the data stays where it was. Returns whether anything was changed. */
bool isohead_invalidate(uint8_t *head);
