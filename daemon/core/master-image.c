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
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/master.h"
#include "core/quota.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

/* The staging entry's name: nothing reads it but messages and tests. */
#define IMAGE_ENTRY_NAME "image"

struct ImageAdd {
        Master *master;
        Stash *stash;
        core_done_fn done;
        void *userdata;
        int fd;                 /* the client's, open until done */
        uint64_t size, cost;    /* cost: what is reserved for the copy */
        uint64_t staged_cost;   /* what the copy takes in the stash */
        uint64_t mtime_usec;
        uint32_t copy;          /* the copy in the stash, once made */
        _Atomic uint64_t bytes_done;
        volatile bool cancel;
        int result;
        ImapiError error;
        sd_event_source *timer;
};

static ImageAdd *image_add_free(ImageAdd *a) {
        if (!a)
                return NULL;
        imapi_error_done(&a->error);
        sd_event_source_disable_unref(a->timer);
        free(a);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageAdd *, image_add_free);

uint64_t master_image_size(const Master *m) {
        return m->format == MASTER_FORMAT_IMAGE && staging_count(&m->staging) > 0 ? m->staging.entries[0].size : 0;
}

void master_cancel_image_adding(Master *m) {
        if (m->image_adding)
                m->image_adding->cancel = true;
}

/* AddProgress in 2048-byte blocks, as for AddData. */
static void emit_add_progress(ImageAdd *a) {
        manager_notify_event(a->master->manager, a->master, MASTER_EVENT_ADD_PROGRESS,
                             (int32_t) MIN(DIV_ROUND_UP(atomic_load(&a->bytes_done), 2048), INT32_MAX),
                             (int32_t) MIN(a->size / 2048, INT32_MAX), 0);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        emit_add_progress(userdata);
        return sd_event_source_set_time_relative(s, 250 * 1000) < 0 ? 0 : sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void copy_progress(uint64_t done, void *userdata) {
        ImageAdd *a = userdata;

        atomic_store(&a->bytes_done, done);
}

/* Worker. */
static void image_add_run(void *userdata) {
        ImageAdd *a = userdata;

        uint64_t cost = 0;

        /* Exactly the size that was checked: a file that grew is cut back to it, one that shrank
         * fails the call (stash.h). */
        a->result = stash_copy_in(a->stash, a->fd, a->size, "the image", &a->cancel, copy_progress, a, &a->copy,
                                  &cost, &a->error);
        /* What is accounted is what the stash holds (a clone takes nothing). */
        if (a->result >= 0)
                a->staged_cost = cost;
}

/* The copy must be what was checked: a file that changed size meanwhile is not the image the
 * disc was checked against. */
static int check_copy(ImageAdd *a) {
        _cleanup_close_ int fd = stash_open_copy(a->stash, a->copy);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return imapi_error_set(&a->error, IMAPI_E_FILEACCESS, "Cannot examine the image in the stash.");
        if ((uint64_t) st.st_size != a->size)
                return imapi_error_set(&a->error, IMAPI_E_INVALIDIMAGE,
                                       "The image changed while it was copied (%llu bytes, now %llu); nothing was "
                                       "staged.", (unsigned long long) a->size, (unsigned long long) st.st_size);
        return 0;
}

/* Back on the event loop. */
static void image_add_done(void *userdata) {
        _cleanup_(image_add_freep) ImageAdd *a = userdata;
        Master *m = a->master;
        int r = a->result;

        m->image_adding = NULL;
        stash_release(a->stash, a->cost);
        if (r >= 0 && m->closing)
                r = imapi_error_set(&a->error, IMAPI_E_USERABORT, "Disc master %u was closed; nothing was staged.",
                                    m->id);
        if (r >= 0)
                r = check_copy(a);
        if (r >= 0) {
                StagedEntry e = {
                        .image_path = IMAGE_ENTRY_NAME,
                        .copy = a->copy,
                        .mode = S_IFREG | 0444,
                        .size = a->size,
                        .cost = a->staged_cost,
                        .mtime_usec = a->mtime_usec,
                };
                uint32_t replaced = 0; /* none: the staging was empty */

                r = staging_add(&m->staging, &e, &replaced);
                if (r >= 0)
                        a->copy = 0; /* the staging's now */
        }
        /* A copy that is not staged is not kept (a closing master's stash goes as a whole). */
        if (a->copy != 0 && !m->closing)
                (void) stash_remove_copy(a->stash, a->copy);
        if (r < 0) {
                if (!imapi_error_is_set(&a->error))
                        (void) imapi_error_set(&a->error, r == -ECANCELED ? IMAPI_E_USERABORT : hresult_from_errno(r),
                                               r == -ECANCELED ? "Staging was cancelled." : "Staging failed: %s.",
                                               strerror(-r));
                log_info("Disc master %u: SetImage failed: %s", m->id, strna(a->error.message));
                a->done(a->userdata, r, &a->error, NULL);
                master_work_done(m);
                return;
        }
        emit_add_progress(a);
        master_changed(m, MASTER_CHANGED_DATA_USED);
        log_info("Disc master %u: an image of %llu blocks is staged.", m->id,
                 (unsigned long long) (a->size / 2048));
        a->done(a->userdata, 0, NULL, NULL);
        master_work_done(m);
}

/* The fd: a regular file, read from its start (an image is addressed from block 0, whatever
 * the client's offset), a whole number of blocks. */
static int check_image_fd(int fd, ImageAdd *a, ImapiError *error) {
        struct stat st;
        int flags = fcntl(fd, F_GETFL);
        int r;

        if (flags < 0 || fstat(fd, &st) < 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The file descriptor is not usable.");
        if (!S_ISREG(st.st_mode))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The image must be a regular file, not a %s.",
                                       S_ISDIR(st.st_mode) ? "directory" : S_ISBLK(st.st_mode) ? "block device" :
                                       S_ISFIFO(st.st_mode) ? "pipe" : "special file");
        if ((flags & O_ACCMODE) == O_WRONLY)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The image's file descriptor is not readable.");
        if (st.st_size == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE, "The image is empty.");
        if (st.st_size % 2048 != 0)
                return imapi_error_set(error, IMAPI_E_INVALIDIMAGE,
                                       "The image has %llu bytes, not a whole number of 2048-byte blocks "
                                       "(%llu bytes too many); it is not a disc image.",
                                       (unsigned long long) st.st_size, (unsigned long long) (st.st_size % 2048));
        r = stash_file_cost(fd, &a->cost);
        if (r < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot examine the image: %s.", strerror(-r));
        a->fd = fd;
        a->size = (uint64_t) st.st_size;
        a->mtime_usec = (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000;
        return 0;
}

static int check_image_ready(Master *m, uint64_t blocks, ImapiError *error) {
        int r = master_check_format(m, MASTER_FORMAT_IMAGE, error);

        if (r < 0)
                return r;
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Choose a recorder with SetActiveDiscRecorder before the image.");
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->image_adding || m->preparing > 0 || m->discarding > 0)
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
        _cleanup_(image_add_freep) ImageAdd *a = NULL;
        int r;

        a = calloc(1, sizeof(ImageAdd));
        if (!a)
                return -ENOMEM;
        r = check_image_fd(fd, a, error);
        if (r < 0)
                return r;
        r = check_image_ready(m, a->size / 2048, error);
        if (r < 0)
                return r;
        r = quota_check_staging(m->manager, m, a->cost, 1, error);
        if (r < 0)
                return r;
        r = stash_reserve(m->stash, a->cost, error);
        if (r < 0)
                return r;
        a->master = m;
        a->stash = m->stash;
        a->done = done;
        a->userdata = userdata;
        r = sd_event_add_time_relative(m->manager->event, &a->timer, CLOCK_MONOTONIC, 250 * 1000, 0,
                                       on_progress_timer, a);
        if (r >= 0) {
                emit_add_progress(a);
                r = worker_submit(m->manager->worker, image_add_run, image_add_done, a);
        }
        if (r < 0) {
                stash_release(m->stash, a->cost);
                return r;
        }
        m->image_adding = TAKE_PTR(a);
        return 1;
}
