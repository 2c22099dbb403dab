/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IDiscRecorder's logic over a Drive: exclusive access, media state, properties. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "core/recorder.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"

int recorder_new(Manager *m, Drive *drive, const char *id, Recorder **ret) {
        Recorder *r;

        r = calloc(1, sizeof(Recorder));
        if (!r)
                return -ENOMEM;
        r->manager = m;
        r->drive = drive;
        r->present = true;
        r->id = strdup(id);
        if (!r->id) {
                r->drive = NULL;
                recorder_free(r);
                return -ENOMEM;
        }
        recorder_reset_properties(r);
        *ret = r;
        return 0;
}

Recorder *recorder_free(Recorder *r) {
        if (!r)
                return NULL;
        recorder_drop_waiting(r);
        drive_free(r->drive);
        free(r->profiles);
        free(r->speeds);
        free(r->id);
        free(r);
        return NULL;
}

void recorder_reset_properties(Recorder *r) {
        r->write_speed = -1;
        r->audio_gap = RECORDER_AUDIO_GAP_DEFAULT;
        r->enable_buf = -1;
}

void recorder_log_event_internal(const char *file, int line, const char *func, const Recorder *r, int level,
                                 sd_id128_t message_id, const char *fmt, ...) {
        char rec[64], dev[128];
        const char *fields[] = { rec, dev, NULL };
        va_list ap;

        snprintf(rec, sizeof rec, "IMAPI_RECORDER=%s", r->id);
        snprintf(dev, sizeof dev, "IMAPI_DEVICE=%s", drive_get_address(r->drive));
        va_start(ap, fmt);
        log_event_internalv(level, file, line, func, message_id, fields, fmt, ap);
        va_end(ap);
}

void recorder_changed(Recorder *r) {
        manager_notify_recorder(r->manager, r, RECORDER_CHANGED_STATE);
}

void recorder_look(Drive *drive, RecorderReadout *ret) {
        if (drive_grab(drive, false) < 0)
                return;
        (void) recorder_readout(drive, ret);
        drive_release(drive, false);
}

int recorder_readout(Drive *drive, RecorderReadout *ret) {
        int k;

        *ret = (RecorderReadout) {};
        k = drive_query_media(drive, &ret->media);
        if (k >= 0)
                k = drive_get_profiles(drive, &ret->profiles, &ret->n_profiles);
        if (k >= 0)
                k = drive_get_write_speeds(drive, &ret->speeds, &ret->n_speeds);
        if (k >= 0)
                ret->max_speed_kbps = drive_get_max_write_speed(drive);
        if (k < 0) {
                recorder_readout_done(ret);
                ret->error = k;
        }
        return k;
}

void recorder_readout_done(RecorderReadout *ro) {
        free(ro->profiles);
        free(ro->speeds);
        *ro = (RecorderReadout) { .error = -ENODATA };
}

int recorder_apply_readout(Recorder *r, RecorderReadout *ro) {
        int k = ro->error;

        if (k >= 0) {
                r->media = ro->media;
                free(r->profiles);
                r->profiles = TAKE_PTR(ro->profiles);
                r->n_profiles = ro->n_profiles;
                free(r->speeds);
                r->speeds = TAKE_PTR(ro->speeds);
                r->n_speeds = ro->n_speeds;
                r->max_speed_kbps = ro->max_speed_kbps;
        }
        recorder_readout_done(ro);
        return k;
}

/* Reads media, profiles and speeds from the grabbed drive, on the event loop. */
static int recorder_read_drive(Recorder *r) {
        RecorderReadout ro;

        (void) recorder_readout(r->drive, &ro);
        return recorder_apply_readout(r, &ro);
}

int recorder_grab_error(Recorder *r, int k, ImapiError *error) {
        if (k == -EBUSY)
                return imapi_error_set(error, IMAPI_E_DEVICE_STILL_IN_USE,
                                         "Another application is using recorder %s (%s).", r->id,
                                         drive_get_address(r->drive));
        return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT,
                                 "Recorder %s (%s) cannot be opened; it is not present or has been removed.",
                                 r->id, drive_get_address(r->drive));
}

void recorder_set_present(Recorder *r, bool present) {
        if (r->present == present)
                return;
        if (!present) {
                /* The exclusive holder cannot use it any more; a running job fails on its own. */
                if (r->owner && r->busy == 0 && !r->query)
                        drive_release(r->drive, false);
                r->owner = client_unref(r->owner);
                r->media = (MediaInfo) { .status = MEDIA_STATUS_NONE };
                r->present = false;
                manager_notify_recorder(r->manager, r, RECORDER_CHANGED_STATE | RECORDER_CHANGED_PRESENT);
                manager_notify_removed(r->manager, OBJECT_RECORDER, r);
                return;
        }
        r->present = true;
        manager_notify_added(r->manager, OBJECT_RECORDER, r);
}

int recorder_check_present(Recorder *r, ImapiError *error) {
        if (!r->present)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                       r->id);
        return 0;
}

int recorder_check_owner(Recorder *r, Client *c, ImapiError *error) {
        int k;

        k = recorder_check_present(r, error);
        if (k < 0)
                return k;
        if (!c || r->owner != c)
                return imapi_error_set(error, IMAPI_E_NOTOPENED,
                                         "Recorder %s has not been opened by this client; call OpenExclusive first.",
                                         r->id);
        return 0;
}

typedef struct OpenCall {
        Client *client;
        core_done_fn done;
        void *userdata;
} OpenCall;

/* Neither held by another client nor used by a job. */
static int check_not_taken(Recorder *r, Client *c, ImapiError *error) {
        if (r->owner && r->owner != c)
                return imapi_error_set(error, IMAPI_E_DEVICE_STILL_IN_USE,
                                       "Recorder %s is held by another application (%s).", r->id,
                                       r->owner->description);
        if (r->busy > 0)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Recorder %s is in use by a running job.", r->id);
        return 0;
}

static int check_open(Recorder *r, Client *c, ImapiError *error) {
        int k;

        k = recorder_check_present(r, error);
        if (k < 0)
                return k;
        if (c->gone)
                return imapi_error_set(error, IMAPI_E_USERABORT, "The client went away.");
        if (r->owner == c)
                return imapi_error_set(error, IMAPI_E_ALREADYOPEN,
                                       "Recorder %s is already open for this client.", r->id);
        return check_not_taken(r, c, error);
}

static void open_prepared(Recorder *r, int k, const ImapiError *prep_error, void *userdata) {
        _cleanup_free_ OpenCall *o = userdata;
        _cleanup_(client_unrefp) Client *c = o->client;
        _cleanup_imapi_error_ ImapiError error = IMAPI_ERROR_NULL;

        if (k < 0) {
                o->done(o->userdata, k, prep_error, NULL);
                return;
        }
        /* Things may have changed while the drive was read: the client left, say. */
        k = check_open(r, c, &error);
        if (k < 0) {
                drive_release(r->drive, false);
                o->done(o->userdata, k, &error, NULL);
                return;
        }
        r->owner = client_ref(c);
        log_info("Recorder %s opened exclusively by %s.", r->id, c->description);
        recorder_changed(r);
        o->done(o->userdata, 0, NULL, NULL);
}

int recorder_open_exclusive(Recorder *r, Client *c, core_done_fn done, void *userdata, ImapiError *error) {
        OpenCall *o;
        int k;

        k = check_open(r, c, error);
        if (k < 0)
                return k;
        o = malloc(sizeof(OpenCall));
        if (!o)
                return -ENOMEM;
        *o = (OpenCall) { .client = client_ref(c), .done = done, .userdata = userdata };
        k = recorder_prepare(r, true, open_prepared, o, error);
        if (k < 0) {
                client_unref(o->client);
                free(o);
        }
        return k;
}

void recorder_release(Recorder *r) {
        /* An erase cannot be stopped: the drive stays taken until it ends (erase.c releases
         * it then, as nobody holds the recorder any more); a query's worker lets it go when
         * it is done with it (recorder-query.c). */
        if (r->busy == 0 && !r->query)
                recorder_release_drive(r);
        r->owner = client_unref(r->owner);
        recorder_reset_properties(r);
        recorder_changed(r);
}

int recorder_close(Recorder *r, Client *c, ImapiError *error) {
        int k;

        k = recorder_check_owner(r, c, error);
        if (k < 0)
                return k;
        log_info("Recorder %s closed by %s.", r->id, c->description);
        recorder_release(r);
        return 0;
}

void recorder_client_gone(Recorder *r, Client *c) {
        if (r->owner != c)
                return;
        log_info("Releasing recorder %s: %s went away.", r->id, c->description);
        recorder_release(r);
}

int recorder_refresh_media(Recorder *r, ImapiError *error) {
        int k;

        /* A job (or the end of one, in a worker) has the drive: what it last read stands. */
        if (r->busy > 0)
                return 0;
        k = recorder_read_drive(r);
        if (k < 0)
                return recorder_read_error(r, k, error);
        recorder_changed(r);
        return 0;
}

int recorder_check_medium(Recorder *r, ImapiError *error) {
        if (IN_SET(r->media.status, MEDIA_STATUS_NONE, MEDIA_STATUS_UNKNOWN))
                return imapi_error_set(error, IMAPI_E_MEDIUM_NOTPRESENT, "There is no disc in recorder %s.",
                                       r->id);
        return 0;
}

void recorder_get_settings(const Recorder *r, RecorderSettings *ret) {
        *ret = (RecorderSettings) {
                .write_speed = r->write_speed,
                .audio_gap = r->audio_gap,
                .enable_buf = r->enable_buf,
        };
}

int recorder_check_settings(Recorder *r, Client *c, const RecorderSettings *s, ImapiError *error) {
        int k;

        if (s->write_speed < -1 || s->write_speed > 1000)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "WriteSpeed %" PRIi64 " is out of range "
                                       "(-1 for the highest, or 1 to 1000 times).", s->write_speed);
        if (s->audio_gap < 0 || s->audio_gap > RECORDER_AUDIO_GAP_MAX)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "AudioGapSize %" PRIi64 " is out of range "
                                       "(0 to %d blocks).", s->audio_gap, RECORDER_AUDIO_GAP_MAX);
        if (s->enable_buf < -1 || s->enable_buf > 1)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "EnableBufferUnderrunFree must be -1, 0 or 1, not %" PRIi64 ".", s->enable_buf);
        k = recorder_check_present(r, error);
        if (k < 0)
                return k;
        /* The holder's settings are part of what it holds. */
        return check_not_taken(r, c, error);
}

void recorder_apply_settings(Recorder *r, const RecorderSettings *s) {
        r->write_speed = s->write_speed == 0 ? -1 : (int) s->write_speed;
        r->audio_gap = (int) s->audio_gap;
        r->enable_buf = (int) s->enable_buf;
        manager_notify_recorder(r->manager, r, RECORDER_CHANGED_WRITE_SPEED);
}

int recorder_write_speed_x(const Recorder *r) {
        /* At its default, WriteSpeed is MaxWriteSpeed, as IMAPI says it "usually" is. */
        return r->write_speed < 0 ? recorder_max_write_speed_x(r) : r->write_speed;
}

int recorder_read_error(Recorder *r, int k, ImapiError *error) {
        if (k == -EBADFD || k == -ENODEV)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTPRESENT,
                                         "Recorder %s does not answer; it may have been removed.", r->id);
        return imapi_error_set(error, IMAPI_E_DISCINFO, "Cannot read the disc in recorder %s: %s.", r->id,
                                 strerror(-k));
}

static bool profile_is_cd(unsigned p) {
        return p >= 0x08 && p <= 0x0A;
}

void recorder_media_type(const Recorder *r, int *ret_type, int *ret_flags) {
        const MediaInfo *m = &r->media;
        int type = 0, flags = 0;

        switch (m->status) {
        case MEDIA_STATUS_BLANK:
                flags |= MEDIA_BLANK | MEDIA_WRITABLE;
                break;
        case MEDIA_STATUS_APPENDABLE:
                flags |= MEDIA_WRITABLE;
                break;
        case MEDIA_STATUS_CLOSED:
                break;
        case MEDIA_STATUS_UNSUITABLE:
                flags |= MEDIA_FORMAT_UNUSABLE_BY_IMAPI;
                break;
        default:
                /* No medium, or nothing known: both zero, as IMAPI reports an empty drive. */
                *ret_type = 0;
                *ret_flags = 0;
                return;
        }
        if (m->erasable)
                flags |= MEDIA_RW;

        /* IMAPIv1 knew CDs only. A multi-session data disc is CD-ROM XA; other CDs and blank
         * discs are CD-DA/CD-ROM; DVD, BD and image files are "special". */
        if (drive_profile_is_rom(m->profile))
                flags &= ~(MEDIA_BLANK | MEDIA_WRITABLE);
        if (profile_is_cd(m->profile) || (m->profile == 0 && !m->is_file))
                type = m->status == MEDIA_STATUS_APPENDABLE ? MEDIA_CD_ROM_XA : MEDIA_CDDA_CDROM;
        else
                type = MEDIA_SPECIAL;

        *ret_type = type;
        *ret_flags = flags;
}

int recorder_type(const Recorder *r) {
        if (drive_can_write_cdrw(r->drive))
                return RECORDER_CDRW;
        for (size_t i = 0; i < r->n_profiles; i++)
                if (IN_SET(r->profiles[i].number, 0x0Au, 0x13u, 0x14u, 0x1Au, 0x43u))
                        return RECORDER_CDRW;
        return RECORDER_CDR;
}

uint32_t recorder_state(const Recorder *r) {
        if (r->busy > 0)
                return RECORDER_BURNING;
        if (r->owner)
                return RECORDER_OPENED;
        return RECORDER_DOING_NOTHING;
}

int recorder_max_write_speed_x(const Recorder *r) {
        unsigned x1 = drive_profile_kbps_1x(r->media.profile);
        int best = r->max_speed_kbps;

        for (size_t i = 0; i < r->n_speeds; i++)
                best = MAX(best, (int) r->speeds[i]);
        if (x1 == 0 || best <= 0)
                return 0;
        return (int) ((best + x1 / 2) / x1);
}

bool recorder_buf_capable(const Recorder *r) {
        return drive_underrun_free_capable(r->drive);
}

const char *recorder_device(const Recorder *r) {
        const char *a = drive_get_address(r->drive);

        return strncmp(a, "/dev/", 5) == 0 ? a : "";
}

/* A stable 16-byte identifier: FNV-1a over the drive's identity, twice with different seeds. */
void recorder_guid(const Recorder *r, uint8_t ret[16]) {
        const char *parts[] = { drive_get_vendor(r->drive), drive_get_product(r->drive),
                                drive_get_revision(r->drive), drive_get_address(r->drive) };
        uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };

        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                        for (const char *p = parts[i]; *p; p++) {
                                h[k] ^= (uint8_t) *p;
                                h[k] *= 0x100000001b3ULL;
                        }
        for (size_t i = 0; i < 8; i++) {
                ret[i] = (uint8_t) (h[0] >> (8 * i));
                ret[8 + i] = (uint8_t) (h[1] >> (8 * i));
        }
        /* RFC 9562 version 8 (custom) and variant bits. */
        ret[6] = (uint8_t) ((ret[6] & 0x0F) | 0x80);
        ret[8] = (uint8_t) ((ret[8] & 0x3F) | 0x80);
}

char *recorder_pnp_id(const Recorder *r) {
        char *s = NULL;

        /* IMAPI: "a concatenation of the manufacturer, product ID and revision". */
        if (asprintf(&s, "%s%s%s", drive_get_vendor(r->drive), drive_get_product(r->drive),
                     drive_get_revision(r->drive)) < 0)
                return NULL;
        return s;
}
