/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One client file copied whole into a disc master's stash, in a worker (file-copy.h). */

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/file-copy.h"
#include "core/quota.h"
#include "core/worker.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

struct FileCopy {
        Master *master;
        Stash *stash;
        const FileCopyOps *ops;
        FileCopy **slot;
        core_done_fn done;
        void *userdata;
        int fd;                 /* the client's, open until done */
        uint64_t size, cost;    /* cost: what is reserved for the copy */
        uint64_t staged_cost;   /* what the copy takes in the stash */
        uint32_t copy;          /* the copy in the stash, once made */
        _Atomic uint64_t bytes_done;
        volatile bool cancel;
        int result;
        ImapiError error;
        sd_event_source *timer;
};

static FileCopy *file_copy_free(FileCopy *c) {
        if (!c)
                return NULL;
        imapi_error_done(&c->error);
        sd_event_source_disable_unref(c->timer);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(FileCopy *, file_copy_free);

void file_copy_cancel(FileCopy *c) {
        if (c)
                c->cancel = true;
}

/* AddProgress in 2048-byte blocks, as for AddData. */
static void emit_add_progress(FileCopy *c) {
        manager_notify_event(c->master->manager, c->master, MASTER_EVENT_ADD_PROGRESS,
                             (int32_t) MIN(DIV_ROUND_UP(atomic_load(&c->bytes_done), 2048), INT32_MAX),
                             (int32_t) MIN(DIV_ROUND_UP(c->size, 2048), INT32_MAX), 0);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        emit_add_progress(userdata);
        return sd_event_source_set_time_relative(s, 250 * 1000) < 0 ? 0 : sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void copy_progress(uint64_t done, void *userdata) {
        FileCopy *c = userdata;

        atomic_store(&c->bytes_done, done);
}

/* Worker. */
static void file_copy_run(void *userdata) {
        FileCopy *c = userdata;
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* Exactly the size that was checked: a file that grew is cut back to it, one that shrank
         * fails the call (stash.h). */
        c->result = stash_copy_in(c->stash, c->fd, c->size, c->ops->what, &c->cancel, copy_progress, c, &c->copy,
                                  &c->staged_cost, &c->error);
        if (c->result < 0)
                return;
        /* The copy must be what was checked: a file that changed size meanwhile is not the one
         * the disc was checked against. */
        fd = stash_open_copy(c->stash, c->copy);
        if (fd < 0 || fstat(fd, &st) < 0)
                c->result = imapi_error_set(&c->error, IMAPI_E_FILEACCESS, "Cannot examine the %s in the stash.",
                                            c->ops->what);
        else if ((uint64_t) st.st_size != c->size)
                c->result = imapi_error_set(&c->error, c->ops->changed_hresult,
                                            "The %s changed while it was copied (%llu bytes, now %llu); nothing "
                                            "was staged.", c->ops->what, (unsigned long long) c->size,
                                            (unsigned long long) st.st_size);
}

/* Back on the event loop. */
static void file_copy_done(void *userdata) {
        _cleanup_(file_copy_freep) FileCopy *c = userdata;
        Master *m = c->master;
        int r = c->result;

        *c->slot = NULL;
        stash_release(c->stash, c->cost);
        if (r >= 0 && m->closing)
                r = imapi_error_set(&c->error, IMAPI_E_USERABORT, "Disc master %u was closed; nothing was staged.",
                                    m->id);
        if (r >= 0) {
                r = c->ops->commit(m, c->copy, c->size, c->staged_cost);
                if (r >= 0)
                        c->copy = 0; /* the staging's now */
        }
        /* A copy that is not staged is not kept (a closing master's stash goes as a whole). */
        if (c->copy != 0 && !m->closing)
                (void) stash_remove_copy(c->stash, c->copy);
        if (r < 0) {
                if (!imapi_error_is_set(&c->error))
                        (void) imapi_error_set(&c->error, r == -ECANCELED ? IMAPI_E_USERABORT : hresult_from_errno(r),
                                               r == -ECANCELED ? "Staging was cancelled." : "Staging failed: %s.",
                                               strerror(-r));
                log_info("Disc master %u: %s failed: %s", m->id, c->ops->call, strna(c->error.message));
                c->done(c->userdata, r, &c->error, NULL);
        } else {
                if (c->ops->progress)
                        emit_add_progress(c);
                master_changed(m, MASTER_CHANGED_DATA_USED);
                log_info("Disc master %u: the %s (%llu bytes) is staged.", m->id, c->ops->what,
                         (unsigned long long) c->size);
                c->done(c->userdata, 0, NULL, NULL);
        }
        master_work_done(m);
}

int file_copy_start(Master *m, int fd, uint64_t size, uint64_t cost, const FileCopyOps *ops, FileCopy **slot,
                    core_done_fn done, void *userdata, ImapiError *error) {
        _cleanup_(file_copy_freep) FileCopy *c = NULL;
        int r;

        r = quota_reserve_staging(m->manager, m, cost, 1, error);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(FileCopy));
        if (!c) {
                stash_release(m->stash, cost);
                return -ENOMEM;
        }
        *c = (FileCopy) { .master = m, .stash = m->stash, .ops = ops, .slot = slot, .done = done,
                          .userdata = userdata, .fd = fd, .size = size, .cost = cost };
        if (ops->progress) {
                r = sd_event_add_time_relative(m->manager->event, &c->timer, CLOCK_MONOTONIC, 250 * 1000, 0,
                                               on_progress_timer, c);
                if (r >= 0)
                        emit_add_progress(c);
        }
        if (r >= 0)
                r = worker_submit(m->manager->worker, file_copy_run, file_copy_done, c);
        if (r < 0) {
                stash_release(m->stash, cost);
                return r;
        }
        *slot = TAKE_PTR(c);
        return 1;
}
