/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the libisofs boundary (iso.h): what iso.c, iso-stream.c, iso-import.c, iso-build.c,
 * iso-names.c and iso-write.c share. Only these files include libisofs.h, through this header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
/* libisofs.h then declares struct burn_source itself: libburn is drive.c's business. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "media/iso.h"

#define ISO_BLOCK 2048U

static inline void image_unrefp(IsoImage **p) {
        if (*p)
                iso_image_unref(*p);
}

static inline void write_opts_freep(IsoWriteOpts **p) {
        if (*p)
                iso_write_opts_free(*p);
}

static inline void read_opts_freep(IsoReadOpts **p) {
        if (*p)
                iso_read_opts_free(*p);
}

static inline void dir_iter_freep(IsoDirIter **p) {
        if (*p)
                iso_dir_iter_free(*p);
}

/* iso.c: an ISO_* error code (full form, as returned by calls) as a negative errno; libisofs'
 * message queue emptied into the log, returning the errno of the worst message about image
 * imgid (or about none in particular), 0 if none is an error. */
int iso_code_to_errno(int code);
int iso_flush_messages(int imgid, bool quiet);

/* iso-stream.c: the streams through which libisofs reads the staged files of one image. They
 * point at the IsoStashStreams, which must outlive the image. */
typedef struct IsoStashStreams IsoStashStreams;
int iso_stash_streams_new(const IsoSource *src, IsoStashStreams **ret);
IsoStashStreams *iso_stash_streams_free(IsoStashStreams *s);
const IsoSource *iso_stash_streams_source(const IsoStashStreams *s);
/* The first entry whose staged copy could not be opened or read, or SIZE_MAX. */
size_t iso_stash_streams_failed(const IsoStashStreams *s);
/* The stream of entry index, for iso_image_add_new_file(). */
int iso_stash_stream_new(IsoStashStreams *s, size_t index, IsoStream **ret);

/* iso-import.c: the previous session into image (o->read_block, o->import_lba); the files the
 * medium does not hold whole taken out again and noted in imp; and, once the tree is complete,
 * the blocks of earlier sessions it refers to. */
int iso_import_previous(IsoImage *image, const IsoOptions *o);
int iso_import_prune(IsoImage *image, const IsoOptions *o, IsoImport *imp);
int iso_import_collect_extents(IsoImage *image, IsoImport *imp);

/* iso-names.c: Joliet-only twins for the nodes whose names Joliet cannot hold as they are. */
int iso_adapt_joliet_names(IsoImage *image);

/* iso-build.c: an image laid out and, unless estimate_only, its writer thread started. Any
 * thread may build; one image is built at a time (libisofs' iterators are process-wide). */
typedef struct IsoBuild {
        IsoStashStreams *streams; /* freed after the image, whose streams point at it */
        IsoImage *image;
        IsoWriteOpts *opts;
        struct burn_source *source;
        int imgid;
        uint64_t blocks;
        bool started; /* the writer thread runs: cancel before freeing unless it ended */
        bool ended;
} IsoBuild;


int iso_build_image(const IsoSource *src, const IsoOptions *o, bool estimate_only, IsoImport *imp,
                    IsoBuild *ret);
void iso_build_done(IsoBuild *b);
