/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscMaster's state machine: open, format, recorder, staging bookkeeping, close. */

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <imapi/imapi.h>

#include "core/config.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"
#include "core/master.h"
#include "core/recorder.h"
#include "media/stash.h"
#include "core/worker.h"

const char *master_format_to_iid(MasterFormat f) {
        return f == MASTER_FORMAT_JOLIET ? IMAPI_IID_IJOLIETDISCMASTER :
               f == MASTER_FORMAT_REDBOOK ? IMAPI_IID_IREDBOOKDISCMASTER : "";
}

static void default_volume_name(char buf[static JOLIET_VOLUME_NAME_MAX + 1]) {
        time_t t = time(NULL);
        struct tm tm;

        /* IMAPI names a volume after the date; d-characters only, so ISO 9660 keeps it. */
        localtime_r(&t, &tm);
        strftime(buf, JOLIET_VOLUME_NAME_MAX + 1, "%Y_%m_%d", &tm);
}

int master_new(Daemon *d, Client *owner, Master **ret) {
        char vol[JOLIET_VOLUME_NAME_MAX + 1];
        Master **l, *m;

        l = realloc(d->masters, (d->n_masters + 1) * sizeof(Master *));
        if (!l)
                return -ENOMEM;
        d->masters = l;
        m = calloc(1, sizeof(Master));
        if (!m)
                return -ENOMEM;
        m->daemon = d;
        m->id = ++d->next_master_id;
        m->owner = owner;
        staging_init(&m->staging);
        redbook_init(&m->redbook);
        default_volume_name(vol);
        m->volume_name = strdup(vol);
        if (!m->volume_name || asprintf(&m->path, IMAPI_MASTERS_PATH "/%u", m->id) < 0) {
                free(m->volume_name);
                free(m);
                return -ENOMEM;
        }
        d->masters[d->n_masters++] = m;
        daemon_emit_object_added(d, m->path);
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

void staged_content_delete(Staging *s, Redbook *rb, Stash *stash) {
        staging_clear(s, stash ? remove_stash_copy : NULL, stash);
        redbook_clear(rb, stash ? remove_stash_file : NULL, stash);
}

void master_clear_staging(Master *m) {
        staged_content_delete(&m->staging, &m->redbook, m->stash);
}

/* Staged content handed to a worker: 100,000 files take a second to delete, and even an
 * emptied stash directory that held them tens of milliseconds to remove. Either the master
 * lives on and keeps its stash (it counts as busy, so a close waits), or it is gone and its
 * stash goes too. */
typedef struct Disposal {
        Master *master;         /* NULL: the master is gone; the stash is freed as well */
        Stash *stash;
        Staging staging;
        Redbook redbook;
        sd_bus_message *call;   /* answered when it is done */
} Disposal;

static void disposal_run(void *userdata) {
        Disposal *x = userdata;

        staged_content_delete(&x->staging, &x->redbook, x->stash);
        if (!x->master) {
                stash_free(x->stash);
                (void) malloc_trim(0);
        }
}

static void disposal_done(void *userdata) {
        Disposal *x = userdata;
        Master *m = x->master;

        if (x->call) {
                (void) sd_bus_reply_method_return(x->call, NULL);
                sd_bus_message_unref(x->call);
        }
        free(x);
        if (m) {
                m->discarding--;
                master_work_done(m);
        }
}

/* Moves m's staged content, and its stash if with_stash, to a worker; call (if any) is
 * answered there. Returns 1 if so, 0 if it was done here (at exit, with no worker left, or
 * out of memory) and the caller answers. */
static int master_dispose(Master *m, bool with_stash, sd_bus_message *call) {
        Worker *w = m->daemon->worker;
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
                .call = sd_bus_message_ref(call),
        };
        staging_init(&m->staging);
        redbook_init(&m->redbook);
        if (w && worker_submit(w, disposal_run, disposal_done, x) >= 0) {
                if (!with_stash)
                        m->discarding++;
                return 1;
        }
        disposal_run(x);
        sd_bus_message_unref(x->call);
        free(x);
        return 0;
}

int master_discard_staging(Master *m, sd_bus_message *call) {
        if (staging_count(&m->staging) == 0 && m->redbook.n == 0) {
                master_clear_staging(m);
                return 0;
        }
        return master_dispose(m, false, call) > 0 && call ? 1 : 0;
}

Master *master_free(Master *m) {
        Daemon *d;

        if (!m)
                return NULL;
        d = m->daemon;
        for (size_t i = 0; i < d->n_masters; i++)
                if (d->masters[i] == m) {
                        memmove(d->masters + i, d->masters + i + 1, (d->n_masters - i - 1) * sizeof(Master *));
                        d->n_masters--;
                        daemon_emit_object_removed(d, m->path);
                        break;
                }
        if (master_dispose(m, true, m->close_call) == 0 && m->close_call)
                (void) sd_bus_reply_method_return(m->close_call, NULL);
        m->close_call = sd_bus_message_unref(m->close_call);
        log_debug("Disc master %u freed.", m->id);
        free(m->volume_name);
        free(m->path);
        free(m);
        return NULL;
}

Master *daemon_find_master_by_path(Daemon *d, const char *path) {
        for (size_t i = 0; i < d->n_masters; i++)
                if (streq(d->masters[i]->path, path))
                        return d->masters[i];
        return NULL;
}

unsigned daemon_count_masters_of(Daemon *d, Client *c) {
        unsigned n = 0;

        for (size_t i = 0; i < d->n_masters; i++)
                n += d->masters[i]->owner == c;
        return n;
}

void master_emit_signal(Master *m, const char *member, const char *types, ...) {
        for (size_t i = 0; i < m->daemon->n_buses; i++) {
                va_list ap;
                int r;

                va_start(ap, types);
                r = sd_bus_emit_signalv(m->daemon->buses[i], m->path, IMAPI_DISC_MASTER_INTERFACE, member, types, ap);
                va_end(ap);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit %s on %s, ignoring: %m", member, m->path);
        }
}

static void master_emit_changed(Master *m) {
        daemon_emit_properties_changed(m->daemon, m->path, IMAPI_DISC_MASTER_INTERFACE, "Opened", "ActiveFormat",
                                       "ActiveRecorder", NULL);
        daemon_emit_properties_changed(m->daemon, m->path, IMAPI_JOLIET_INTERFACE, "TotalDataBlocks",
                                       "UsedDataBlocks", NULL);
        master_emit_redbook_changed(m);
}

int master_check_opened(Master *m, sd_bus_error *error) {
        if (!m->opened || m->closing)
                return bus_error_hresult(error, IMAPI_E_NOTOPENED,
                                         "Disc master %u has not been opened; call Open first.", m->id);
        return 0;
}

int master_check_format(Master *m, MasterFormat f, sd_bus_error *error) {
        int r = master_check_opened(m, error);

        if (r < 0)
                return r;
        if (m->format == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_NOACTIVEFORMAT,
                                         "Disc master %u has no active format; call SetActiveDiscMasterFormat first.",
                                         m->id);
        if (m->format != f)
                return bus_error_hresult(error, IMAPI_E_WRONGFORMAT,
                                         "The %s format is active on disc master %u; change the format first.",
                                         m->format == MASTER_FORMAT_JOLIET ? "Joliet" : "Redbook", m->id);
        return 0;
}

int master_open(Master *m, sd_bus_error *error) {
        char name[32];
        int r;

        if (m->opened)
                return bus_error_hresult(error, IMAPI_E_ALREADYOPEN, "Disc master %u is already open.", m->id);

        r = stash_check_location(m->daemon->config->stash_dir, "/sys", error);
        if (r < 0)
                return r;
        /* Named after the master: two daemons sharing a stash directory meet on the lock. */
        snprintf(name, sizeof name, "master-%u", m->id);
        r = stash_new(m->daemon->config->stash_dir, name, &m->stash, error);
        if (r < 0)
                return r;
        m->opened = true;
        log_info("Disc master %u opened, stash %s.", m->id, stash_get_path(m->stash));
        master_emit_changed(m);
        return 0;
}

int master_close(Master *m, sd_bus_message *call, sd_bus_error *error) {
        log_info("Disc master %u closed by its client.", m->id);
        if (master_busy(m)) {
                /* A running job finishes and cleans up later; the caller need not wait. */
                master_close_or_defer(m);
                return 0;
        }
        /* Answered when the stash is gone (and unlocked): a second daemon or disc master may
         * take the name as soon as the caller hears back. */
        m->close_call = sd_bus_message_ref(call);
        master_free(m);
        return 1;
}

void master_close_or_defer(Master *m) {
        m->closing = true;
        if (master_busy(m)) {
                /* The copy stops at its next chunk; a burn finishes and cleans up. */
                master_cancel_adding(m);
                master_cancel_audio_adding(m);
                return;
        }
        master_free(m);
}

void master_work_done(Master *m) {
        Daemon *d = m->daemon;

        if (m->closing && !master_busy(m))
                master_free(m);
        daemon_check_exit(d);
}

void master_client_gone(Master *m, Client *c) {
        if (m->owner != c)
                return;
        log_info("Disc master %u: %s went away%s.", m->id, c->description,
                 m->recording || m->audio_recording ? "; its burn goes on and cleans up after itself" : "");
        m->owner = NULL;
        master_close_or_defer(m);
}

static MasterFormat parse_format(const char *s) {
        size_t n = strlen(s);

        if (strcasecmp(s, "joliet") == 0)
                return MASTER_FORMAT_JOLIET;
        if (strcasecmp(s, "redbook") == 0)
                return MASTER_FORMAT_REDBOOK;
        /* An IID, with or without braces, in any case. */
        if (n == 38 && s[0] == '{' && s[37] == '}') {
                s++;
                n = 36;
        }
        if (n == 36 && strncasecmp(s, IMAPI_IID_IJOLIETDISCMASTER, 36) == 0)
                return MASTER_FORMAT_JOLIET;
        if (n == 36 && strncasecmp(s, IMAPI_IID_IREDBOOKDISCMASTER, 36) == 0)
                return MASTER_FORMAT_REDBOOK;
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

static int master_busy_error(Master *m, sd_bus_error *error) {
        if (m->recording || m->audio_recording)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->adding || m->audio_adding)
                return bus_error_hresult(error, IMAPI_E_GENERIC,
                                         "Disc master %u is still staging the previous AddData.", m->id);
        return 0;
}

int master_set_format(Master *m, const char *format, sd_bus_message *call, sd_bus_error *error) {
        MasterFormat f;
        int r;

        r = master_check_opened(m, error);
        if (r < 0)
                return r;
        f = parse_format(format);
        if (f == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                         "Unknown disc master format '%s'; use one of EnumDiscMasterFormats.", format);
        r = master_busy_error(m, error);
        if (r < 0)
                return r;

        /* IMAPI: success clears the staged image, and a recorder that cannot take the new
         * format is no longer active. */
        r = master_discard_staging(m, call);
        m->plan_known = false;
        m->format = f;
        if (m->recorder && !master_recorder_supports(m, m->recorder, f)) {
                m->recorder = NULL;
                master_emit_signal(m, "PnPActivity", NULL);
        }
        master_emit_changed(m);
        return r;
}

int master_set_recorder(Master *m, Recorder *r, bool replace, sd_bus_message *call, sd_bus_error *error) {
        SessionPlan plan;
        uint64_t need;
        int k;

        k = master_check_opened(m, error);
        if (k < 0)
                return k;
        if (m->format == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_NOACTIVEFORMAT,
                                         "Choose a format with SetActiveDiscMasterFormat before a recorder.");
        if (!r->present)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.", r->id);
        if (!master_recorder_supports(m, r, m->format))
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Recorder %s cannot write %s discs.", r->id,
                                         m->format == MASTER_FORMAT_REDBOOK ? "audio" : "data");
        if (replace && m->format != MASTER_FORMAT_JOLIET)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Only a data disc can replace what a disc holds.");
        k = master_busy_error(m, error);
        if (k < 0)
                return k;
        if (r->owner)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Recorder %s is held through OpenExclusive by %s; it must be closed first.",
                                         r->id, r->owner->description);
        if (r->busy > 0)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                         "Recorder %s is in use by a running job.", r->id);

        /* Read the disc, as IMAPI does here. */
        k = recorder_prepare(r, call, true, error);
        if (k <= 0)
                return k == 0 ? 1 : k;
        drive_release(r->drive, false);
        recorder_emit_changed(r);

        if (m->format == MASTER_FORMAT_REDBOOK)
                k = session_plan_audio(r, &plan, error);
        else
                k = session_plan_data(r, replace, &plan, error);
        if (k < 0)
                return k;

        if (m->format == MASTER_FORMAT_JOLIET && staging_count(&m->staging) > 0 &&
            (need = staging_estimate_blocks(&m->staging, NULL, 0)) > plan.room)
                return bus_error_hresult(error, IMAPI_E_DISCFULL,
                                         "The staged data (%llu blocks) does not fit the disc in recorder %s "
                                         "(%u blocks free).", (unsigned long long) need, r->id, plan.room);
        if (m->format == MASTER_FORMAT_REDBOOK && (need = redbook_needed_blocks(&m->redbook, r->audio_gap)) > plan.room)
                return bus_error_hresult(error, IMAPI_E_DISCFULL,
                                         "The staged audio (%llu blocks with gaps) does not fit the disc in recorder "
                                         "%s (%u blocks free).", (unsigned long long) need, r->id, plan.room);

        m->recorder = r;
        m->plan = plan;
        m->plan_known = true;
        m->replace = replace;
        m->total_blocks = plan.room;
        log_info("Disc master %u: recorder %s, %s %s, %u blocks free; the burn writes %s at block %u.", m->id, r->id,
                 media_status_to_string(r->media.status), r->media.profile_name, plan.room,
                 session_mode_to_string(plan.mode), plan.start_lba);
        master_emit_changed(m);
        return 0;
}

int master_plan_burn(Master *m, bool replace, bool simulate, SessionPlan *ret, sd_bus_error *error) {
        Recorder *rec = m->recorder;
        SessionPlan p;
        int k;

        if (m->format == MASTER_FORMAT_REDBOOK) {
                if (replace)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "Only a data disc can replace what a disc holds.");
                k = session_plan_audio(rec, &p, error);
        } else
                k = session_plan_data(rec, replace || m->replace, &p, error);
        if (k >= 0 && m->plan_known)
                k = session_plan_check_same(rec, &m->plan, &p, error);
        if (k < 0)
                return k;
        if (simulate && (!drive_can_simulate(rec->drive) || !rec->media.can_simulate))
                return bus_error_hresult(error, IMAPI_E_DEVICE_INVALIDTYPE,
                                         "Recorder %s cannot simulate writing the %s in it; a test write works on "
                                         "CD-R, CD-RW, DVD-R, DVD-RW and image files.", rec->id,
                                         rec->media.profile_name[0] ? rec->media.profile_name : "disc");
        *ret = p;
        return 0;
}

int master_clear(Master *m, sd_bus_message *call, sd_bus_error *error) {
        int r;

        r = master_check_opened(m, error);
        if (r < 0)
                return r;
        r = master_busy_error(m, error);
        if (r < 0)
                return r;
        r = master_discard_staging(m, call);
        /* IMAPI: the end of multi-session mode; the next burn looks at the disc afresh. */
        m->plan_known = false;
        master_emit_changed(m);
        return r;
}

uint32_t master_used_blocks(const Master *m) {
        uint64_t b;

        if (staging_count(&m->staging) == 0)
                return 0;
        b = staging_estimate_blocks(&m->staging, NULL, 0);
        return (uint32_t) MIN(b, (uint64_t) INT32_MAX);
}
