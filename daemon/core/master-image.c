/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Image format's staging: SetImage takes a disc image (an ISO 9660 file system, a hybrid
 * ISO with its MBR, any whole-disc image) from a file descriptor the client passed and copies it
 * into the stash in a worker, so that it is burned as it is, block for block. Everything that
 * can refuse the image is checked before the copy starts: the fd (a regular file), its size (a
 * whole number of 2048-byte blocks), the disc (blank, as SetActiveDiscRecorder found it, and
 * large enough: IMAPI_E_DISCFULL), and the stash's free space. Why a copy rather than reading
 * the client's file during the burn: docs/design.md, "Disc images as they are".
 */

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/file-copy.h"
#include "core/master.h"
#include "macro.h"

/* The staging entry's name: nothing reads it but messages and tests. */
#define IMAGE_ENTRY_NAME "image"

uint64_t master_image_size(const Master *m) {
        return m->format == MASTER_FORMAT_IMAGE && staging_count(&m->staging) > 0 ? m->staging.entries[0].size : 0;
}

void master_cancel_image_adding(Master *m) {
        file_copy_cancel(m->image_adding);
}

int master_commit_image(Master *m, uint32_t copy, uint64_t size, uint64_t cost) {
        StagedEntry e = {
                .image_path = IMAGE_ENTRY_NAME,
                .copy = copy,
                .mode = S_IFREG | 0444,
                .size = size,
                .cost = cost,
        };
        uint32_t replaced = 0; /* none: the staging was empty */

        return staging_add(&m->staging, &e, &replaced);
}

static const FileCopyOps image_copy = {
        .what = "image",
        .call = "SetImage",
        .progress = true,
        .changed_hresult = IMAPI_E_INVALIDIMAGE,
        .commit = master_commit_image,
};

/* The fd: a regular file, read from its start (an image is addressed from block 0, whatever
 * the client's offset), a whole number of blocks. */
static int check_image_fd(int fd, uint64_t *ret_size, uint64_t *ret_cost, ImapiError *error) {
        struct stat st;
        int r;

        r = master_examine_fd(fd, "image", &st, ret_cost, error);
        if (r < 0)
                return r;
        if (st.st_size == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE, "The image is empty.");
        if (st.st_size % 2048 != 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE,
                                       "The image has %llu bytes, not a whole number of 2048-byte blocks "
                                       "(%llu bytes too many); it is not a disc image.",
                                       (unsigned long long) st.st_size, (unsigned long long) (st.st_size % 2048));
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

int master_check_image_ready(Master *m, uint64_t blocks, ImapiError *error) {
        int r = master_check_format(m, MASTER_FORMAT_IMAGE, error);

        if (r < 0)
                return r;
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Choose a recorder with SetActiveDiscRecorder before the image.");
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->image_adding || m->reading || m->preparing > 0 || m->discarding > 0)
                return imapi_error_set(error, IMAPI_E_GENERIC, "Disc master %u is still staging the previous image.",
                                       m->id);
        if (staging_count(&m->staging) > 0)
                return imapi_error_set(error, IMAPI_E_FILEEXISTS,
                                       "Disc master %u already has an image staged; a disc takes one. "
                                       "ClearFormatContent removes it.", m->id);
        if (blocks > m->total_blocks)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc in recorder %s cannot hold the image (%s); nothing was copied.",
                                       m->recorder->id,
                                       master_format_room(blocks, m->total_blocks, (char[MASTER_ROOM_MAX]) {}));
        return 0;
}

int master_set_image(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error) {
        uint64_t size = 0, cost = 0;
        int r;

        r = check_image_fd(fd, &size, &cost, error);
        if (r < 0)
                return r;
        r = master_check_image_ready(m, size / 2048, error);
        if (r < 0)
                return r;
        return file_copy_start(m, fd, size, cost, &image_copy, &m->image_adding, done, userdata, error);
}
