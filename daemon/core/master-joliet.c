/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IJolietDiscMaster::AddData: a batch of (name in the image, fd) entries. The daemon never
 * opens a client's path: it copies from the fds the client passed into the stash, in a worker
 * thread, and the call is done when the copy is. A batch is all or nothing: a refused or failed
 * batch leaves nothing staged.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/master.h"
#include "core/quota.h"
#include "core/worker.h"
#include "hresult.h"
#include "jolietname.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

typedef struct AddItem {
        char *image_path;
        int fd;                 /* the client's, open until done */
        bool is_dir;
        uint64_t size;
        uint64_t cost;
        mode_t mode;
        uint64_t mtime_usec;
        uint32_t copy;          /* the copy in the stash, once made */
        bool packed;            /* copied into the stash's pack (stash.h) */
} AddItem;

struct AddBatch {
        Manager *manager;       /* whose budget of calls holds held_fds of the batch's fds */
        size_t held_fds;
        Master *master;
        Stash *stash;
        core_done_fn done;
        void *userdata;
        AddItem *items;
        size_t n;
        bool overwrite;
        bool master_adapts;     /* names are checked as StrictJolietNames was at the call */
        uint64_t reserved;
        uint64_t bytes_total;
        _Atomic uint64_t bytes_done;    /* of the files copied completely */
        _Atomic uint64_t file_done;     /* of the file being copied */
        volatile bool cancel;
        int result;
        ImapiError error;
        sd_event_source *timer;
};

static AddBatch *add_batch_free(AddBatch *b) {
        if (!b)
                return NULL;
        if (b->manager)
                manager_release_call_fds(b->manager, b->held_fds);
        for (size_t i = 0; i < b->n; i++) {
                free(b->items[i].image_path);
        }
        free(b->items);
        imapi_error_done(&b->error);
        sd_event_source_disable_unref(b->timer);
        free(b);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AddBatch *, add_batch_free);

/* AddProgress counts 2048-byte blocks copied, so large and small batches read alike. */
static void emit_add_progress(AddBatch *b) {
        uint64_t done = atomic_load(&b->bytes_done) + atomic_load(&b->file_done), total = b->bytes_total;

        manager_notify_event(b->master->manager, b->master, MASTER_EVENT_ADD_PROGRESS,
                             (int32_t) MIN(DIV_ROUND_UP(done, 2048), INT32_MAX),
                             (int32_t) MIN(DIV_ROUND_UP(total, 2048), INT32_MAX), 0);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AddBatch *b = userdata;

        emit_add_progress(b);
        return sd_event_source_set_time_relative(s, 250 * 1000) < 0 ? 0 : sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void copy_progress(uint64_t done, void *userdata) {
        AddBatch *b = userdata;

        atomic_store(&b->file_done, done);
}

/* One file of the batch: into the pack, or a copy of its own. */
static int add_item_copy(AddBatch *b, AddItem *it) {
        uint64_t cost;
        int r;

        if (it->packed)
                /* Exactly its size, at its cost (it->cost already). */
                return stash_pack_in(b->stash, it->fd, it->size, it->image_path, &b->cancel, &it->copy,
                                     &b->error);
        r = stash_copy_in(b->stash, it->fd, it->size, it->image_path, &b->cancel, copy_progress, b,
                          &it->copy, &cost, &b->error);
        atomic_store(&b->file_done, 0);
        if (r < 0)
                return r;
        /* Holes filled since the file was examined would take more than was reserved for it (a
         * whole file never takes more than its size in whole blocks). */
        if (cost > MAX(it->cost, ALIGN_TO(it->size, (uint64_t) 64 * 1024)))
                r = imapi_error_set(&b->error, IMAPI_E_FILEACCESS,
                                    "'%s' takes %" PRIu64 " KiB now, more than the %" PRIu64
                                    " KiB it took when it was added; stage it again once it "
                                    "stays the same.", it->image_path, DIV_ROUND_UP(cost, 1024),
                                    DIV_ROUND_UP(it->cost, 1024));
        /* What is accounted is what the stash holds. */
        it->cost = cost;
        return r;
}

/* In the worker thread: copy every file; on any failure, remove what was copied and cut the
 * pack back to where the batch began. */
static void add_batch_run(void *userdata) {
        AddBatch *b = userdata;
        uint64_t packed = 0, mark = 0;
        bool begun = false;
        int r = 0;

        for (size_t i = 0; i < b->n; i++)
                if (b->items[i].packed)
                        packed += b->items[i].cost;
        if (packed > 0) {
                r = stash_pack_begin(b->stash, packed, &mark, &b->error);
                begun = r >= 0;
        }
        for (size_t i = 0; i < b->n && r >= 0; i++) {
                AddItem *it = &b->items[i];

                if (b->cancel) {
                        r = -ECANCELED;
                        break;
                }
                if (it->is_dir)
                        continue;
                r = add_item_copy(b, it);
                if (r >= 0)
                        atomic_fetch_add(&b->bytes_done, it->size);
        }
        if (begun)
                (void) stash_pack_end(b->stash, mark, r >= 0);
        if (r < 0)
                for (size_t i = 0; i < b->n; i++)
                        if (b->items[i].copy != 0) {
                                (void) stash_remove_copy(b->stash, b->items[i].copy);
                                b->items[i].copy = 0;
                        }
        b->result = r;
}

/* Back on the event loop. */
static void add_batch_done(void *userdata) {
        _cleanup_(add_batch_freep) AddBatch *b = userdata;
        Master *m = b->master;
        int r = b->result;

        m->adding = NULL;
        stash_release(b->stash, b->reserved);

        if (r >= 0 && !m->closing) {
                for (size_t i = 0; i < b->n && r >= 0; i++) {
                        AddItem *it = &b->items[i];
                        StagedEntry e = {
                                .image_path = it->image_path,
                                .copy = it->copy,
                                .size = it->size,
                                .cost = it->cost,
                                .mode = it->mode,
                                .mtime_usec = it->mtime_usec,
                        };
                        uint32_t replaced = 0;

                        it->copy = 0; /* the entry's now */
                        r = staging_add(&m->staging, &e, &replaced);
                        if (r < 0) {
                                if (e.copy != 0)
                                        (void) stash_remove_copy(b->stash, e.copy);
                                break;
                        }
                        /* The last file added wins; the one it replaces is not burned. */
                        if (replaced != 0)
                                (void) stash_remove_copy(b->stash, replaced);
                }
        }
        /* Copies that a failure halfway left unstaged are not kept (a closing master's stash goes
         * as a whole). */
        for (size_t i = 0; i < b->n && !m->closing; i++)
                if (b->items[i].copy != 0)
                        (void) stash_remove_copy(b->stash, b->items[i].copy);

        if (m->closing) {
                log_debug("Disc master %u: AddData stopped, the master is closing.", m->id);
                /* The caller may still be there (Close from another call): it gets an answer. */
                r = imapi_error_set(&b->error, IMAPI_E_USERABORT,
                                    "Disc master %u was closed; nothing of this call was staged.", m->id);
                b->done(b->userdata, r, &b->error, NULL);
                master_work_done(m);
                return;
        }
        if (r < 0) {
                if (!imapi_error_is_set(&b->error))
                        (void) imapi_error_set(&b->error,
                                               r == -ECANCELED ? IMAPI_E_USERABORT : hresult_from_errno(r),
                                               r == -ECANCELED ? "Staging was cancelled." : "Staging failed: %s.",
                                               strerror(-r));
                log_info("Disc master %u: AddData of %zu entries failed: %s", m->id, b->n,
                         strna(b->error.message));
                b->done(b->userdata, r, &b->error, NULL);
                master_work_done(m);
                return;
        }
        emit_add_progress(b);
        master_changed(m, MASTER_CHANGED_DATA_USED);
        log_debug("Disc master %u: staged %zu entries, %zu in all.", m->id, b->n, staging_count(&m->staging));
        b->done(b->userdata, 0, NULL, NULL);
        master_work_done(m);
}

void master_cancel_adding(Master *m) {
        if (m->adding)
                m->adding->cancel = true;
}

/* Each entry as the batch will copy it: its name checked and normalized, its fd examined. */
static int add_item(AddBatch *b, const MasterAddEntry *e, ImapiError *error) {
        AddItem *it = &b->items[b->n];
        JolietNameError je;
        struct stat st;
        char *normalized = NULL;
        int r;

        je = b->master_adapts ? disc_name_check(e->name, &normalized, NULL) :
                                joliet_name_check(e->name, &normalized, NULL);
        if (je != JOLIET_NAME_OK)
                return imapi_error_set(error, IMAPI_E_BADJOLIETNAME,
                                       b->master_adapts ? "'%s' cannot be a name on the disc: %s." :
                                       "'%s' cannot be a name on the disc: %s (StrictJolietNames is on).",
                                       e->name, joliet_name_error_to_string(je));
        *it = (AddItem) { .image_path = normalized, .fd = e->fd };
        b->n++;
        if (fstat(e->fd, &st) < 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The file descriptor for '%s' is not usable.", e->name);
        if (S_ISDIR(st.st_mode))
                it->is_dir = true;
        else if (!S_ISREG(st.st_mode))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "'%s' is neither a regular file nor a directory.", e->name);
        else {
                it->size = (uint64_t) st.st_size;
                r = stash_file_cost(e->fd, &it->cost);
                if (r < 0)
                        return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot examine '%s': %s.", e->name,
                                               strerror(-r));
                it->packed = stash_pack_fits(b->stash, it->size, it->cost);
                if (it->packed)
                        it->cost = stash_pack_cost(it->size);
                b->bytes_total += it->size;
        }
        it->mode = st.st_mode;
        it->mtime_usec = (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000;
        return 0;
}

int master_add_data(Master *m, const MasterAddEntry *entries, size_t n, bool overwrite, core_done_fn done,
                    void *userdata, ImapiError *error) {
        _cleanup_(add_batch_freep) AddBatch *b = NULL;
        _cleanup_free_ StagingRequest *reqs = NULL;
        uint64_t need_blocks, cost = 0;
        size_t conflict;
        int r;

        if (n > MASTER_ADD_BATCH_MAX)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "At most %d entries may be added in one call.", MASTER_ADD_BATCH_MAX);
        /* The entries' fds stay open until the copy is done. */
        r = manager_hold_call_fds(m->manager, n, error);
        if (r < 0)
                return r;
        b = calloc(1, sizeof(AddBatch));
        if (!b) {
                manager_release_call_fds(m->manager, n);
                return -ENOMEM;
        }
        b->manager = m->manager;
        b->held_fds = n;
        b->master_adapts = m->adapt_names;
        b->stash = m->stash;    /* NULL before Open, refused below */
        b->items = calloc(MAX(n, (size_t) 1), sizeof(AddItem));
        if (!b->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = add_item(b, &entries[i], error);
                if (r < 0)
                        return r;
                cost += b->items[i].cost;
        }

        /* Validated; now the rules of the object's state. */
        r = master_check_format(m, MASTER_FORMAT_JOLIET, error);
        if (r < 0)
                return r;
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Choose a recorder with SetActiveDiscRecorder before adding data.");
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->adding || m->preparing > 0 || m->discarding > 0)
                return imapi_error_set(error, IMAPI_E_GENERIC,
                                       "Disc master %u is still staging the previous AddData.", m->id);

        reqs = calloc(MAX(b->n, 1u), sizeof(StagingRequest));
        if (!reqs)
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++)
                reqs[i] = (StagingRequest) { .image_path = b->items[i].image_path, .is_dir = b->items[i].is_dir,
                                             .size = b->items[i].size };
        r = staging_check(&m->staging, reqs, b->n, overwrite, &conflict);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return imapi_error_set(error, IMAPI_E_FILEEXISTS,
                                       "'%s' is already staged (or collides with a staged "
                                       "name) and overwrite is off.", b->items[conflict].image_path);
        need_blocks = staging_estimate_blocks(&m->staging, reqs, b->n);
        if (need_blocks > m->total_blocks)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc cannot hold this data (%s); nothing of this call was added.",
                                       master_format_room(need_blocks, m->total_blocks, (char[MASTER_ROOM_MAX]) {}));
        r = quota_reserve_staging(m->manager, m, cost, b->n, error);
        if (r < 0)
                return r;

        b->master = m;
        b->stash = m->stash;
        b->reserved = cost;
        b->overwrite = overwrite;
        b->done = done;
        b->userdata = userdata;
        r = sd_event_add_time_relative(m->manager->event, &b->timer, CLOCK_MONOTONIC, 250 * 1000, 0,
                                       on_progress_timer, b);
        if (r < 0) {
                stash_release(m->stash, cost);
                return r;
        }
        emit_add_progress(b);
        r = worker_submit(m->manager->worker, add_batch_run, add_batch_done, b);
        if (r < 0) {
                stash_release(m->stash, cost);
                return r;
        }
        m->adding = TAKE_PTR(b);
        return 1;
}

int master_set_strict_joliet_names(Master *m, bool strict, ImapiError *error) {
        if (strict == !m->adapt_names)
                return 0;
        /* The batch being copied was checked by the other rules. */
        if (m->adding)
                return imapi_error_set(error, IMAPI_E_GENERIC,
                                       "Disc master %u is still staging an AddData; set StrictJolietNames "
                                       "before or after it.", m->id);
        for (size_t i = 0; strict && i < m->staging.n; i++) {
                const char *path = m->staging.entries[i].image_path;
                JolietNameError je = joliet_name_check(path, NULL, NULL);

                if (je != JOLIET_NAME_OK)
                        return imapi_error_set(error, IMAPI_E_BADJOLIETNAME,
                                               "'%s' is staged and cannot be a Joliet name as it is: %s; "
                                               "StrictJolietNames stays off.", path,
                                               joliet_name_error_to_string(je));
        }
        m->adapt_names = !strict;
        return 0;
}

int master_adapted_names(Master *m, JolietAdaptation **ret, size_t *ret_n) {
        _cleanup_free_ const char **paths = NULL;

        if (!m->adapt_names || m->staging.n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        paths = malloc(m->staging.n * sizeof(char *));
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < m->staging.n; i++)
                paths[i] = m->staging.entries[i].image_path;
        return joliet_tree_adapt(paths, m->staging.n, ret, ret_n);
}
