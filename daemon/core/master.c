/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscMaster's state machine: open, format, recorder, staging bookkeeping, close. */

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <imapi/imapi.h>

#include "core/burn.h"
#include "core/config.h"
#include "core/disc-read.h"
#include "core/master.h"
#include "core/recorder.h"
#include "core/worker.h"
#include "hresult.h"
#include "format-util.h"
#include "jolietname.h"
#include "log.h"
#include "macro.h"
#include "media/stash.h"

const char *const master_format_iids[] = { IMAPI_IID_IJOLIETDISCMASTER, IMAPI_IID_IREDBOOKDISCMASTER,
                                           IMAPI_IID_IIMAGEDISCMASTER, NULL };

const char *master_format_to_iid(MasterFormat f) {
        return f == MASTER_FORMAT_JOLIET ? IMAPI_IID_IJOLIETDISCMASTER :
               f == MASTER_FORMAT_REDBOOK ? IMAPI_IID_IREDBOOKDISCMASTER :
               f == MASTER_FORMAT_IMAGE ? IMAPI_IID_IIMAGEDISCMASTER : "";
}

const char *master_format_to_name(MasterFormat f) {
        return f == MASTER_FORMAT_JOLIET ? "Joliet" : f == MASTER_FORMAT_REDBOOK ? "Redbook" :
               f == MASTER_FORMAT_IMAGE ? "Image" : "no";
}

static void default_volume_name(char buf[static JOLIET_VOLUME_NAME_MAX + 1]) {
        time_t t = time(NULL);
        struct tm tm;

        /* IMAPI names a volume after the date; d-characters only, so ISO 9660 keeps it. */
        localtime_r(&t, &tm);
        strftime(buf, JOLIET_VOLUME_NAME_MAX + 1, "%Y_%m_%d", &tm);
}

void master_changed(Master *m, unsigned changes) {
        manager_notify_master(m->manager, m, changes);
}

int master_new(Manager *manager, Client *owner, Master **ret) {
        char vol[JOLIET_VOLUME_NAME_MAX + 1];
        Master **l, *m;

        l = realloc(manager->masters, (manager->n_masters + 1) * sizeof(Master *));
        if (!l)
                return -ENOMEM;
        manager->masters = l;
        m = calloc(1, sizeof(Master));
        if (!m)
                return -ENOMEM;
        m->manager = manager;
        m->id = ++manager->next_master_id;
        m->owner = client_ref(owner);
        staging_init(&m->staging);
        redbook_init(&m->redbook);
        default_volume_name(vol);
        m->volume_name = strdup(vol);
        if (!m->volume_name) {
                client_unref(m->owner);
                free(m);
                return -ENOMEM;
        }
        manager->masters[manager->n_masters++] = m;
        manager_notify_added(manager, OBJECT_MASTER, m);
        log_info("Disc master %u created for %s.", m->id, owner->description);
        *ret = m;
        return 0;
}

static void remove_stash_file(const char *path, void *userdata) {
        (void) stash_remove_file(userdata, path);
}

static void remove_stash_copy(uint32_t copy, void *userdata) {
        (void) stash_remove_copy(userdata, copy);
}

void master_delete_staged(Staging *s, Redbook *rb, Stash *stash) {
        bool had_content = s->n > 0;

        staging_clear(s, stash ? remove_stash_copy : NULL, stash);
        /* The pack holds this content's small files and those they replaced, nothing else (a
         * master's staging is handed here whole, its own left empty). */
        if (stash && had_content)
                stash_pack_clear(stash);
        redbook_clear(rb, stash ? remove_stash_file : NULL, stash);
}

void master_clear_staging(Master *m) {
        master_delete_staged(&m->staging, &m->redbook, m->stash);
}

/* Staged content handed to a worker: 100,000 files take a second to delete, and even an
 * emptied stash directory that held them tens of milliseconds to remove. Either the master
 * lives on and keeps its stash (it counts as busy, so a close waits), or it is gone and its
 * stash goes too. */
typedef struct Disposal {
        Master *master;         /* NULL: the master is gone; the stash is freed as well */
        Manager *manager;       /* set while a gone master's stash (and its fd) is being freed */
        Stash *stash;
        Staging staging;
        Redbook redbook;
        core_done_fn done;      /* called when it is done */
        void *userdata;
} Disposal;

static void disposal_run(void *userdata) {
        Disposal *x = userdata;

        master_delete_staged(&x->staging, &x->redbook, x->stash);
        if (!x->master) {
                stash_free(x->stash);
                (void) malloc_trim(0);
        }
}

static void disposal_done(void *userdata) {
        Disposal *x = userdata;
        Master *m = x->master;

        if (x->manager)
                x->manager->n_stashes_leaving--;
        if (x->done)
                x->done(x->userdata, 0, NULL, NULL);
        free(x);
        if (m) {
                m->discarding--;
                master_work_done(m);
        }
}

/* Moves m's staged content, and its stash if with_stash, to a worker; done (if any) is called
 * there. Returns 1 if so, 0 if it was done here (at exit, with no worker left, or out of memory)
 * and done was not called. */
static int master_dispose(Master *m, bool with_stash, core_done_fn done, void *userdata) {
        Worker *w = m->manager->worker;
        Disposal *x = calloc(1, sizeof(Disposal));

        if (!x) {
                master_clear_staging(m);
                if (with_stash)
                        m->stash = stash_free(m->stash);
                return 0;
        }
        *x = (Disposal) {
                .master = with_stash ? NULL : m,
                .stash = with_stash ? TAKE_PTR(m->stash) : m->stash,
                .staging = m->staging,
                .redbook = m->redbook,
                .done = done,
                .userdata = userdata,
        };
        staging_init(&m->staging);
        redbook_init(&m->redbook);
        if (w && worker_submit(w, disposal_run, disposal_done, x) >= 0) {
                if (!with_stash)
                        m->discarding++;
                else if (x->stash) {
                        x->manager = m->manager;
                        x->manager->n_stashes_leaving++;
                }
                return 1;
        }
        disposal_run(x);
        free(x);
        return 0;
}

/* The staged content, deleted in a worker (100,000 files take a second): the staging is empty
 * at once, done is called when the files are gone (async.h). */
static int master_discard_staging(Master *m, core_done_fn done, void *userdata) {
        if (staging_count(&m->staging) == 0 && m->staging.boot.copy == 0 && m->redbook.n == 0) {
                master_clear_staging(m);
                return 0;
        }
        return master_dispose(m, false, done, userdata);
}

Master *master_free(Master *m) {
        Manager *manager;

        if (!m)
                return NULL;
        manager = m->manager;
        for (size_t i = 0; i < manager->n_masters; i++)
                if (manager->masters[i] == m) {
                        memmove(manager->masters + i, manager->masters + i + 1,
                                (manager->n_masters - i - 1) * sizeof(Master *));
                        manager->n_masters--;
                        manager_notify_removed(manager, OBJECT_MASTER, m);
                        break;
                }
        if (master_dispose(m, true, m->close_done, m->close_userdata) == 0 && m->close_done)
                m->close_done(m->close_userdata, 0, NULL, NULL);
        log_debug("Disc master %u freed.", m->id);
        client_unref(m->owner);
        free(m->volume_name);
        free(m);
        return NULL;
}

int master_check_opened(Master *m, ImapiError *error) {
        if (!m->opened || m->closing)
                return imapi_error_set(error, IMAPI_E_NOTOPENED,
                                       "Disc master %u has not been opened; call Open first.", m->id);
        return 0;
}

int master_check_client(Master *m, Client *c, ImapiError *error) {
        if (!c || c != m->owner)
                return imapi_error_set(error, IMAPI_E_ACCESSDENIED,
                                       "Disc master %u belongs to another client.", m->id);
        return 0;
}

int master_get_format(Master *m, const char **ret_iid, ImapiError *error) {
        int r = master_check_opened(m, error);

        if (r < 0)
                return r;
        if (m->format == MASTER_FORMAT_NONE)
                return imapi_error_set(error, IMAPI_E_NOACTIVEFORMAT,
                                       "Disc master %u has no active format.", m->id);
        *ret_iid = master_format_to_iid(m->format);
        return 0;
}

int master_get_recorder(Master *m, Recorder **ret, ImapiError *error) {
        const char *iid;
        int r;

        r = master_get_format(m, &iid, error);
        if (r < 0)
                return r;
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Disc master %u has no active recorder.", m->id);
        r = recorder_check_present(m->recorder, error);
        if (r < 0)
                return r;
        *ret = m->recorder;
        return 0;
}

bool master_offers_recorder(const Master *m, const Recorder *r) {
        /* IMAPI: "if there is no format set, the default is Joliet". */
        return master_recorder_supports(m, r,
                                        m->format == MASTER_FORMAT_NONE ? MASTER_FORMAT_JOLIET : m->format);
}

int master_check_format(Master *m, MasterFormat f, ImapiError *error) {
        int r = master_check_opened(m, error);

        if (r < 0)
                return r;
        if (m->format == MASTER_FORMAT_NONE)
                return imapi_error_set(error, IMAPI_E_NOACTIVEFORMAT,
                                       "Disc master %u has no active format; call SetActiveDiscMasterFormat first.",
                                       m->id);
        if (m->format != f)
                return imapi_error_set(error, IMAPI_E_WRONGFORMAT,
                                       "The %s format is active on disc master %u; change the format first.",
                                       master_format_to_name(m->format), m->id);
        return 0;
}

int master_check_recorder(Master *m, ImapiError *error) {
        if (!m->recorder)
                return imapi_error_set(error, IMAPI_E_NOACTIVERECORDER,
                                       "Disc master %u has no active recorder.", m->id);
        if (!m->recorder->present)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                       m->recorder->id);
        return 0;
}

int master_check_not_open(Master *m, ImapiError *error) {
        if (m->opened || m->opening)
                return imapi_error_set(error, IMAPI_E_ALREADYOPEN, "Disc master %u is already %s.", m->id,
                                       m->opened ? "open" : "being opened");
        return 0;
}

/* Open's file-system work (the stash root's checks, the directory made, locked and probed), in
 * a worker: on a busy disk each of those calls can take milliseconds. */
typedef struct OpenCall {
        Master *master;
        char *root;
        char name[32];
        Stash *stash;
        int r;
        ImapiError error;
        core_done_fn done;
        void *userdata;
} OpenCall;

static void open_run(void *userdata) {
        OpenCall *call = userdata;

        call->r = stash_check_location(call->root, "/sys", &call->error);
        if (call->r >= 0)
                call->r = stash_new(call->root, call->name, &call->stash, &call->error);
}

static void open_done(void *userdata) {
        OpenCall *call = userdata;
        Master *m = call->master;
        int r = call->r;

        m->opening = false;
        /* A stash made for a master that was closed meanwhile (its client gone, Close) or for a
         * daemon that is stopping goes with the master: master_free() removes it in a worker. */
        m->stash = TAKE_PTR(call->stash);
        if (r >= 0 && m->closing)
                r = imapi_error_set(&call->error, IMAPI_E_NOTOPENED,
                                    "Disc master %u was closed while it was being opened.", m->id);
        else if (r >= 0 && m->manager->exiting)
                r = imapi_error_set(&call->error, IMAPI_E_USERABORT, "imapid is stopping.");
        if (r >= 0) {
                m->opened = true;
                log_info("Disc master %u opened, stash %s.", m->id, stash_get_path(m->stash));
                master_changed(m, MASTER_CHANGED_STATE);
        }
        call->done(call->userdata, r, r < 0 ? &call->error : NULL, NULL);
        imapi_error_done(&call->error);
        free(call->root);
        free(call);
        master_work_done(m);
}

int master_open(Master *m, core_done_fn done, void *userdata, ImapiError *error) {
        OpenCall *call;
        int r;

        r = master_check_not_open(m, error);
        if (r < 0)
                return r;
        /* A new stash would hold up the exit. */
        if (m->manager->exiting)
                return imapi_error_set(error, IMAPI_E_USERABORT, "imapid is stopping.");

        call = calloc(1, sizeof(OpenCall));
        if (!call)
                return -ENOMEM;
        *call = (OpenCall) {
                .master = m,
                .root = strdup(m->manager->config->stash_dir),
                .error = IMAPI_ERROR_NULL,
                .done = done,
                .userdata = userdata,
        };
        /* Named after the master: two daemons sharing a stash directory meet on the lock. */
        snprintf(call->name, sizeof call->name, "master-%u", m->id);
        if (!call->root) {
                free(call);
                return -ENOMEM;
        }
        r = worker_submit(m->manager->worker, open_run, open_done, call);
        if (r < 0) {
                free(call->root);
                free(call);
                return r;
        }
        m->opening = true;
        return 1;
}

int master_close(Master *m, core_done_fn done, void *userdata, ImapiError *error) {
        log_info("Disc master %u closed by its client.", m->id);
        if (m->opening) {
                /* Answered once the stash being made is removed again, as any Close is. */
                m->close_done = done;
                m->close_userdata = userdata;
                m->closing = true;
                return 1;
        }
        if (master_busy(m)) {
                /* A running job finishes and cleans up later; the caller need not wait. */
                master_close_or_defer(m);
                return 0;
        }
        /* Done when the stash is gone (and unlocked): a second daemon or disc master may take
         * the name as soon as the caller hears back. */
        m->close_done = done;
        m->close_userdata = userdata;
        master_free(m);
        return 1;
}

void master_close_or_defer(Master *m) {
        m->closing = true;
        if (master_busy(m)) {
                /* The copy stops at its next chunk; a burn finishes and cleans up. */
                master_cancel_staging(m);
                return;
        }
        master_free(m);
}

void master_work_done(Master *m) {
        Manager *manager = m->manager;

        if (m->closing && !master_busy(m))
                master_free(m);
        manager_check_exit(manager);
}

void master_client_gone(Master *m, Client *c) {
        if (m->owner != c)
                return;
        log_info("Disc master %u: %s went away%s.", m->id, c->description,
                 m->burn ? "; its burn goes on and cleans up after itself" : "");
        m->owner = client_unref(m->owner);
        master_close_or_defer(m);
}

static MasterFormat parse_format(const char *s) {
        size_t n = strlen(s);

        if (strcasecmp(s, "joliet") == 0)
                return MASTER_FORMAT_JOLIET;
        if (strcasecmp(s, "redbook") == 0)
                return MASTER_FORMAT_REDBOOK;
        if (strcasecmp(s, "image") == 0)
                return MASTER_FORMAT_IMAGE;
        /* An IID, with or without braces, in any case. */
        if (n == 38 && s[0] == '{' && s[37] == '}') {
                s++;
                n = 36;
        }
        if (n == 36 && strncasecmp(s, IMAPI_IID_IJOLIETDISCMASTER, 36) == 0)
                return MASTER_FORMAT_JOLIET;
        if (n == 36 && strncasecmp(s, IMAPI_IID_IREDBOOKDISCMASTER, 36) == 0)
                return MASTER_FORMAT_REDBOOK;
        if (n == 36 && strncasecmp(s, IMAPI_IID_IIMAGEDISCMASTER, 36) == 0)
                return MASTER_FORMAT_IMAGE;
        return MASTER_FORMAT_NONE;
}

bool master_recorder_supports(const Master *m, const Recorder *r, MasterFormat f) {
        if (!r->present)
                return false;
        if (f != MASTER_FORMAT_REDBOOK)
                return true;
        /* Audio needs a CD recorder: image files and DVD/BD-only drives cannot take it. */
        if (drive_is_file(r->drive))
                return false;
        for (size_t i = 0; i < r->n_profiles; i++)
                if (IN_SET(r->profiles[i].number, 0x09u, 0x0Au))
                        return true;
        return false;
}

static int master_busy_error(Master *m, ImapiError *error) {
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->adding || m->boot_adding || m->audio_adding || m->image_adding || m->reading)
                return imapi_error_set(error, IMAPI_E_GENERIC,
                                       "Disc master %u is still staging the previous AddData.", m->id);
        if (m->preparing > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is reading its recorder's disc; try again.", m->id);
        return 0;
}

int master_set_format(Master *m, const char *format, core_done_fn done, void *userdata, ImapiError *error) {
        MasterFormat f;
        int r;

        r = master_check_opened(m, error);
        if (r < 0)
                return r;
        f = parse_format(format);
        if (f == MASTER_FORMAT_NONE)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "Unknown disc master format '%s'; use one of EnumDiscMasterFormats.", format);
        r = master_busy_error(m, error);
        if (r < 0)
                return r;

        /* IMAPI: success clears the staged image, and a recorder that cannot take the new
         * format is no longer active. */
        r = master_discard_staging(m, done, userdata);
        m->plan_known = false;
        m->format = f;
        if (m->recorder && !master_recorder_supports(m, m->recorder, f)) {
                m->recorder = NULL;
                manager_notify_event(m->manager, m, MASTER_EVENT_PNP_ACTIVITY, 0, 0, 0);
        }
        master_changed(m, MASTER_CHANGED_STATE);
        return r;
}

typedef struct SetRecorderCall {
        Master *master;
        bool replace;
        core_done_fn done;
        void *userdata;
} SetRecorderCall;

/* What must hold when SetActiveDiscRecorder starts and again once the disc is read. */
static int check_set_recorder(Master *m, Recorder *r, bool replace, ImapiError *error) {
        int k;

        k = master_check_opened(m, error);
        if (k < 0)
                return k;
        if (m->format == MASTER_FORMAT_NONE)
                return imapi_error_set(error, IMAPI_E_NOACTIVEFORMAT,
                                       "Choose a format with SetActiveDiscMasterFormat before a recorder.");
        if (!r->present)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                       r->id);
        if (!master_recorder_supports(m, r, m->format))
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "Recorder %s cannot write %s discs.", r->id,
                                       m->format == MASTER_FORMAT_REDBOOK ? "audio" : "data");
        if (replace && m->format == MASTER_FORMAT_REDBOOK)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "Only a data disc or an image can replace what a disc holds.");
        k = master_busy_error(m, error);
        if (k < 0)
                return k;
        if (r->owner)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is held through OpenExclusive by %s; it must be closed first.",
                                       r->id, r->owner->description);
        if (r->busy > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is in use by a running job.", r->id);
        return 0;
}

/* The disc is read: what a burn will do with it, and whether what is staged fits. */
static int apply_recorder(Master *m, Recorder *r, bool replace, ImapiError *error) {
        SessionPlan plan;
        uint64_t need;
        int k;

        if (m->format == MASTER_FORMAT_REDBOOK)
                k = session_plan_audio(r, &plan, error);
        else if (m->format == MASTER_FORMAT_IMAGE)
                k = session_plan_image(r, replace, &plan, error);
        else
                k = session_plan_data(r, replace, &plan, error);
        if (k >= 0 && m->format == MASTER_FORMAT_JOLIET && m->staging.boot.place)
                k = session_plan_check_boot(r, &plan, error);
        if (k < 0)
                return k;

        if (m->format == MASTER_FORMAT_IMAGE && m->staging.data_blocks > plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The staged image does not fit the disc in recorder %s (%s).", r->id,
                                       master_format_room(m->staging.data_blocks, plan.room,
                                                          (char[MASTER_ROOM_MAX]) {}));
        if (m->format == MASTER_FORMAT_JOLIET && staging_count(&m->staging) > 0 &&
            (need = staging_estimate_blocks(&m->staging, NULL, 0)) > plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The staged data (%llu blocks) does not fit the disc in "
                                       "recorder %s (%u blocks free).", (unsigned long long) need, r->id, plan.room);
        if (m->format == MASTER_FORMAT_REDBOOK && (need = redbook_needed_blocks(&m->redbook, r->audio_gap)) > plan.room)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The staged audio (%llu blocks with gaps) does not fit "
                                       "the disc in recorder %s (%u blocks free).", (unsigned long long) need, r->id,
                                       plan.room);

        m->recorder = r;
        m->plan = plan;
        m->plan_known = true;
        m->replace = replace;
        m->total_blocks = plan.room;
        log_info("Disc master %u: recorder %s, %s %s, %u blocks free; the burn writes %s at block %u.",
                 m->id, r->id,
                 drive_media_status_to_string(r->media.status), r->media.profile_name, plan.room,
                 session_mode_to_string(plan.mode), plan.start_lba);
        master_changed(m, MASTER_CHANGED_STATE);
        return 0;
}

static void set_recorder_prepared(Recorder *r, int k, const ImapiError *prep_error, void *userdata) {
        _cleanup_free_ SetRecorderCall *call = userdata;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;
        Master *m = call->master;

        m->preparing--;
        if (k >= 0) {
                /* In a worker (a real drive's release takes half a second: 0.5 s on the loop
                 * before, with the emulator); the next call that needs the drive waits for it. */
                recorder_release_drive(r);
                recorder_changed(r);
        }
        if (k >= 0 && m->closing)
                k = imapi_error_set(&error, IMAPI_E_NOTOPENED, "Disc master %u was closed.", m->id);
        if (k >= 0)
                k = apply_recorder(m, r, call->replace, &error);
        call->done(call->userdata, k, k >= 0 ? NULL : prep_error ?: &error, NULL);
        master_work_done(m);
}

int master_set_recorder(Master *m, Recorder *r, bool replace, core_done_fn done, void *userdata,
                        ImapiError *error) {
        SetRecorderCall *call;
        int k;

        k = check_set_recorder(m, r, replace, error);
        if (k < 0)
                return k;
        call = malloc(sizeof(SetRecorderCall));
        if (!call)
                return -ENOMEM;
        *call = (SetRecorderCall) { .master = m, .replace = replace, .done = done, .userdata = userdata };
        /* Read the disc, as IMAPI does here: after another call's read of this recorder, if one
         * runs, since this one lets go of the drive at once. */
        k = recorder_prepare_after(r, true, set_recorder_prepared, call, error);
        if (k < 0) {
                free(call);
                return k;
        }
        m->preparing++;
        return 1;
}

int master_plan_burn(Master *m, Recorder *rec, bool replace, bool simulate, SessionPlan *ret, ImapiError *error) {
        SessionPlan p;
        int k;

        if (m->format == MASTER_FORMAT_REDBOOK) {
                if (replace)
                        return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                               "Only a data disc can replace what a disc holds.");
                k = session_plan_audio(rec, &p, error);
        } else if (m->format == MASTER_FORMAT_IMAGE)
                k = session_plan_image(rec, replace || m->replace, &p, error);
        else
                k = session_plan_data(rec, replace || m->replace, &p, error);
        /* The active recorder's disc is the one SetActiveDiscRecorder read; another recorder of
         * RecordDiscTo is read for the first time here. */
        if (k >= 0 && m->plan_known && rec == m->recorder)
                k = session_plan_check_same(rec, &m->plan, &p, error);
        if (k >= 0)
                k = master_check_boot_burn(m, rec, &p, error);
        if (k < 0)
                return k;
        if (simulate && (!drive_can_simulate(rec->drive) || !rec->media.can_simulate))
                return imapi_error_set(error, IMAPI_E_DEVICE_INVALIDTYPE,
                                       "Recorder %s cannot simulate writing the %s in it; a test write works on "
                                       "CD-R, CD-RW, DVD-R, DVD-RW and image files.", rec->id,
                                       rec->media.profile_name[0] ? rec->media.profile_name : "disc");
        *ret = p;
        return 0;
}

int master_clear(Master *m, core_done_fn done, void *userdata, ImapiError *error) {
        int r;

        r = master_check_opened(m, error);
        if (r < 0)
                return r;
        r = master_busy_error(m, error);
        if (r < 0)
                return r;
        r = master_discard_staging(m, done, userdata);
        /* IMAPI: the end of multi-session mode; the next burn looks at the disc afresh. */
        m->plan_known = false;
        master_changed(m, MASTER_CHANGED_STATE);
        return r;
}

uint32_t master_used_blocks(const Master *m) {
        uint64_t b;

        if (staging_count(&m->staging) == 0 && m->staging.boot.copy == 0)
                return 0;
        b = m->format == MASTER_FORMAT_IMAGE ? m->staging.data_blocks : staging_estimate_blocks(&m->staging, NULL, 0);
        return (uint32_t) MIN(b, (uint64_t) INT32_MAX);
}

char *master_format_room(uint64_t need_blocks, uint64_t free_blocks, char buf[static MASTER_ROOM_MAX]) {
        char need[FORMAT_BYTES_MAX], room[FORMAT_BYTES_MAX];

        format_bytes(need_blocks * 2048, need, sizeof need);
        format_bytes(free_blocks * 2048, room, sizeof room);
        if (streq(need, room))
                snprintf(buf, MASTER_ROOM_MAX, "needs %s, %s free: %llu blocks short", need, room,
                         (unsigned long long) (need_blocks - MIN(need_blocks, free_blocks)));
        else
                snprintf(buf, MASTER_ROOM_MAX, "needs %s, %s free", need, room);
        return buf;
}

int master_examine_fd(int fd, const char *what, struct stat *ret_st, uint64_t *ret_cost, ImapiError *error) {
        int flags = fcntl(fd, F_GETFL);
        struct stat st;
        int r;

        if (flags < 0 || fstat(fd, &st) < 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The %s's file descriptor is not usable.", what);
        if (!S_ISREG(st.st_mode))
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The %s must be a regular file, not a %s.", what,
                                       S_ISDIR(st.st_mode) ? "directory" : S_ISBLK(st.st_mode) ? "block device" :
                                       S_ISFIFO(st.st_mode) ? "pipe" : "special file");
        if ((flags & O_ACCMODE) == O_WRONLY)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The %s's file descriptor is not readable.", what);
        r = stash_file_cost(fd, ret_cost);
        if (r < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS, "Cannot examine the %s: %s.", what, strerror(-r));
        *ret_st = st;
        return 0;
}

Job *master_job(const Master *m) {
        return m->burn ? burn_job(m->burn) : NULL;
}

int master_check_volume_name(const char *s, ImapiError *error) {
        size_t units = 0;

        if (!*s || strchr(s, '/') || joliet_name_check(s, NULL, NULL) != JOLIET_NAME_OK)
                goto invalid;
        /* UTF-16 code units; characters beyond U+FFFF do not fit a volume id. */
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p >= 0xF0)
                        goto invalid;
                if ((*p & 0xC0) != 0x80)
                        units++;
        }
        if (units <= JOLIET_VOLUME_NAME_MAX)
                return 0;
invalid:
        return imapi_error_set(error, IMAPI_E_INVALIDARG, "VolumeName must be 1 to %d characters, valid in a "
                               "Joliet name.", JOLIET_VOLUME_NAME_MAX);
}

int master_set_volume_name(Master *m, const char *name, ImapiError *error) {
        char *copy;
        int r;

        r = master_check_volume_name(name, error);
        if (r < 0)
                return r;
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        free(m->volume_name);
        m->volume_name = copy;
        return 0;
}

void master_cancel_staging(Master *m) {
        master_cancel_adding(m);
        master_cancel_boot_adding(m);
        master_cancel_audio_adding(m);
        master_cancel_image_adding(m);
        disc_read_cancel(m->reading);
}
