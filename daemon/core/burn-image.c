/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An image burn (the Image format's part of burn-ops.h): the disc image staged by SetImage is
 * written as it is, from block 0, as one data track, and read back against the staged copy.
 * Nothing is prepared (the stash holds the image already) and nothing is grown: the image's own
 * file system, boot records and partition table are the disc's, byte for byte. A write-once
 * disc is closed, since an image is a whole disc; an image file recorder is cut to the image's
 * length, so that the file is the image.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapierror.h>

#include "core/burn-ops.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

typedef struct BurnImage {
        char *path;             /* the staged copy, which libburn reads */
        int fd;                 /* the same, for verification */
        uint64_t blocks;
} BurnImage;

static BurnImage *image_of(Burn *b) {
        return b->format;
}

static void burn_image_free(void *p) {
        BurnImage *d = p;

        safe_close(d->fd);
        free(d->path);
        free(d);
}

static int burn_image_check(Master *m, ImapiError *error) {
        if (staging_count(&m->staging) == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE,
                                       "No image is staged on disc master %u; call SetImage first.", m->id);
        return 0;
}

static int burn_image_setup(Burn *b, ImapiError *error) {
        Master *m = b->master;
        const StagedEntry *e = &m->staging.entries[0];
        BurnImage *d;

        d = calloc(1, sizeof(BurnImage));
        if (!d)
                return -ENOMEM;
        d->fd = -1;
        b->format = d;
        d->blocks = e->size / 2048;
        if (d->blocks > b->plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL, "The disc cannot hold the image (%s).",
                                       master_format_room(d->blocks, b->plan.room, (char[MASTER_ROOM_MAX]) {}));
        d->path = stash_copy_path(m->stash, e->copy);
        if (!d->path)
                return -ENOMEM;
        d->fd = stash_open_copy(m->stash, e->copy);
        if (d->fd < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot open the image in the stash: %s.",
                                       strerror(-d->fd));
        b->write_blocks = d->blocks;
        return 0;
}

static int burn_image_write_start(Burn *b, const DriveWriteOptions *common, char **ret_reason) {
        DriveWriteOptions wo = *common;

        /* An image is a whole disc: nothing can follow it that its file system would show. */
        wo.multi = false;
        if (b->plan.random_access)
                wo.start_lba = 0;
        return drive_write_start(b->recorder->drive, image_of(b)->path, &wo, ret_reason);
}

/* An image file that held more than the image (a replace) is cut to it. */
static bool burn_image_needs_closing(Burn *b) {
        return drive_is_file(b->recorder->drive);
}

static void burn_image_close(Burn *b) {
        if (drive_truncate_file(b->recorder->drive, image_of(b)->blocks) < 0)
                log_warning("Cannot cut the image file of recorder %s to the image's length, ignoring.",
                            b->recorder->id);
}

static uint64_t burn_image_verify_blocks(Burn *b) {
        return image_of(b)->blocks;
}

/* Worker: the medium against the staged image, block for block. */
static void burn_image_verify(Burn *b) {
        BurnImage *d = image_of(b);

        b->result = burn_verify_file(b, d->fd, d->blocks, 0, "the image");
}

/* The end deletes the staged copy after a successful burn; the last close of a deleted image of
 * GiBs frees its blocks, which takes a while: in the end's worker, not on the loop. */
static void burn_image_end_files(Burn *b, BurnEndFiles *ret) {
        BurnImage *d = image_of(b);

        if (d)
                *ret = (BurnEndFiles) { .close_fd = TAKE_FD(d->fd) };
}

const BurnOps burn_image_ops = {
        .activity = "Burning a disc image",
        .block_size = 2048,
        .verify_share = 0.3,
        .check = burn_image_check,
        .setup = burn_image_setup,
        .write_start = burn_image_write_start,
        .write_progress = burn_data_write_progress,
        .needs_closing = burn_image_needs_closing,
        .closing_run = burn_image_close,
        .verify_blocks = burn_image_verify_blocks,
        .verify_run = burn_image_verify,
        .end_files = burn_image_end_files,
        .free = burn_image_free,
};
