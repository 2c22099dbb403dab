/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recorder: one drive with IDiscRecorder's rules. Exclusive access (OpenExclusive/Close)
 * belongs to one client at a time; media queries need it; a client that goes away releases it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/async.h"
#include "core/client.h"
#include "core/manager.h"
#include "imapi-error.h"
#include "macro.h"
#include "media/drive.h"
#include "message-id.h"

/* IMAPI's AudioGapSize: 2 seconds by default, at most 3 (75 blocks a second). */
#define RECORDER_AUDIO_GAP_DEFAULT 150
#define RECORDER_AUDIO_GAP_MAX 225

typedef struct RecorderPrep RecorderPrep;
typedef struct RecorderQuery RecorderQuery;

struct Recorder {
        Manager *manager;
        char *id;               /* "sr0", "stdio0": letters and digits */
        Drive *drive;
        bool present;

        Client *owner;          /* OpenExclusive holder */
        unsigned busy;          /* jobs using the drive */
        RecorderPrep *prep;     /* a call's grab and read running in a worker */
        RecorderPrep *waiting;  /* calls that wait for it to end, first first (recorder_prepare_after) */
        unsigned n_waiting;
        RecorderQuery *query;   /* the holder's QueryMedia* or Eject running in a worker */

        MediaInfo media;        /* as of the last grab */
        DriveProfile *profiles;
        size_t n_profiles;
        uint32_t *speeds;       /* kB/s, ascending */
        size_t n_speeds;
        int max_speed_kbps;

        /* IMAPI recorder properties; they return to their defaults when the recorder is
         * released, as IMAPI's do when it is closed. */
        int write_speed;        /* "X"; -1: the highest */
        int audio_gap;
        int enable_buf;         /* -1: if the drive has it, 0: off, 1: on if it has it */
};

int recorder_new(Manager *m, Drive *drive, const char *id, Recorder **ret);
Recorder *recorder_free(Recorder *r);

/* IDiscRecorder::OpenExclusive: the drive is opened and its disc read (async.h). */
int recorder_open_exclusive(Recorder *r, Client *c, core_done_fn done, void *userdata, ImapiError *error);
int recorder_close(Recorder *r, Client *c, ImapiError *error);
/* IMAPI_E_DEVICE_NOTPRESENT for a recorder whose device has gone. */
int recorder_check_present(Recorder *r, ImapiError *error);
/* Checks that c holds the recorder (IMAPI_E_NOTOPENED otherwise). */
int recorder_check_owner(Recorder *r, Client *c, ImapiError *error);
/* QueryMediaType and QueryMediaInfo (recorder-query.c): reads the disc again in a worker, for
 * the client that holds the recorder (async.h; result is r, whose media are fresh then). A call
 * that comes while a read or an eject runs gets that one's answer (at most
 * RECORDER_WAITING_MAX wait); while a job has the drive, what it last read stands (0). With
 * need_medium an empty drive is IMAPI_E_MEDIUM_NOTPRESENT. */
int recorder_query_media(Recorder *r, Client *c, bool need_medium, core_done_fn done, void *userdata,
                         ImapiError *error);
/* Lets go of the holder: the drive is released unless a job or a query's worker has it. */
void recorder_release(Recorder *r);
/* drive_release() in a worker (recorder_releasing() meanwhile; recorder_prepare() calls wait
 * for it), or at once when imapid is stopping. */
void recorder_release_drive(Recorder *r);
bool recorder_releasing(const Recorder *r);
/* A drive that is back, or was lost to another program: a new libburn object for it if it needs
 * one and, with read, its disc read, in a worker, while nothing else has it; calls that would
 * open it wait meanwhile as for a release. */
void recorder_revive(Recorder *r, bool read);
/* Starts the first recorder_prepare_after() call waiting, if the drive is free. */
void recorder_prepare_resume(Recorder *r);
int recorder_refresh_media(Recorder *r, ImapiError *error);
/* IMAPI_E_MEDIUM_NOTPRESENT for an empty drive (as of the last read). */
int recorder_check_medium(Recorder *r, ImapiError *error);
/* The IMAPI errors for a drive_grab() that failed with k (DEVICE_STILL_IN_USE for -EBUSY,
 * else DEVICE_NOTPRESENT) and for a failed read of the grabbed drive (DEVICE_NOTPRESENT for a
 * drive that no longer answers, else DISCINFO). */
int recorder_grab_error(Recorder *r, int k, ImapiError *error);
int recorder_read_error(Recorder *r, int k, ImapiError *error);

/* What recorder_refresh_media() reads, in two halves, so that the reading (which can take
 * seconds on a real drive spinning up) runs in a worker: recorder_readout() needs nothing but
 * the grabbed drive and touches no recorder; recorder_apply_readout() runs on the event loop,
 * takes the arrays and returns the readout's error (the recorder is left as it was then). */
typedef struct RecorderReadout {
        int error;              /* 0, or the negative errno of the read */
        MediaInfo media;
        DriveProfile *profiles;
        size_t n_profiles;
        uint32_t *speeds;
        size_t n_speeds;
        int max_speed_kbps;
} RecorderReadout;
int recorder_readout(Drive *drive, RecorderReadout *ret);
/* A worker's look at a drive nobody holds: grabbed without loading the tray (a drive left open
 * stays open), read into ret, let go. A failed grab leaves ret as it was. */
void recorder_look(Drive *drive, RecorderReadout *ret);
int recorder_apply_readout(Recorder *r, RecorderReadout *ro);
void recorder_readout_done(RecorderReadout *ro);

/* For work that needs the drive grabbed and its disc read (recorder-prepare.c): a worker grabs
 * (loading the tray if asked) and reads while the recorder is reserved (recorder_reserved():
 * other calls get DEVICE_NOTACCESSIBLE meanwhile). Returns 1, or a negative errno with *error
 * set when the recorder is already being read. fn then runs on the event loop, exactly once:
 * with k >= 0 the drive is grabbed and the recorder's media are fresh, and fn must keep or
 * drive_release() the grab; with k < 0, *error says why (DEVICE_STILL_IN_USE: another program
 * has the drive; DEVICE_NOTPRESENT; DISCINFO). */
typedef void (*recorder_prepared_fn)(Recorder *r, int k, const ImapiError *error, void *userdata);
int recorder_prepare(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata, ImapiError *error);
/* The same, but a read that another call started is waited for instead of refused (at most
 * RECORDER_WAITING_MAX calls wait): a step such as choosing a recorder, which only reads the
 * disc and lets go, need not fail because another client chose it at the same moment. When the
 * other call keeps the drive (a burn, OpenExclusive), the waiting ones fail then, as they would
 * have at once. */
#define RECORDER_WAITING_MAX 16
int recorder_prepare_after(Recorder *r, bool load, recorder_prepared_fn fn, void *userdata, ImapiError *error);
/* Drops the calls still waiting, without calling them (at exit). */
void recorder_drop_waiting(Recorder *r);
/* A job or a prepare holds the drive. */
bool recorder_reserved(const Recorder *r);
/* IDiscRecorder::Eject, in a worker (async.h): the tray opens and the drive is grabbed again
 * for the holder, then read. DEVICE_NOTACCESSIBLE while a job or another query has the drive. */
int recorder_eject(Recorder *r, Client *c, core_done_fn done, void *userdata, ImapiError *error);

/* IMAPI's recorder properties, as a client gives them (SetRecorderProperties): checked as a
 * whole, then applied, so that a bad value changes nothing. */
typedef struct RecorderSettings {
        int64_t write_speed;    /* "X"; -1 or 0: the highest */
        int64_t audio_gap;      /* blocks, 0..RECORDER_AUDIO_GAP_MAX */
        int64_t enable_buf;     /* -1, 0, 1 */
} RecorderSettings;
void recorder_get_settings(const Recorder *r, RecorderSettings *ret);
/* Ranges, and that nobody else holds or uses the recorder. */
int recorder_check_settings(Recorder *r, Client *c, const RecorderSettings *s, ImapiError *error);
void recorder_apply_settings(Recorder *r, const RecorderSettings *s);

/* IMAPI's QueryMediaType values for the current medium. */
void recorder_media_type(const Recorder *r, int *ret_type, int *ret_flags);
int recorder_type(const Recorder *r);
uint32_t recorder_state(const Recorder *r);
int recorder_write_speed_x(const Recorder *r);
int recorder_max_write_speed_x(const Recorder *r);
bool recorder_buf_capable(const Recorder *r);
void recorder_guid(const Recorder *r, uint8_t ret[16]);
char *recorder_pnp_id(const Recorder *r);
const char *recorder_device(const Recorder *r);

void recorder_reset_properties(Recorder *r);
/* The device vanished (or came back): a vanished recorder leaves the object tree but keeps its
 * id, where every call gives IMAPI_E_DEVICE_NOTPRESENT; its holder loses it. One that is back is
 * only announced: the drive is read again by the caller (hotplug.c, in a worker). */
void recorder_set_present(Recorder *r, bool present);
/* Called when a client disappears. */
void recorder_client_gone(Recorder *r, Client *c);

/* Tells the observer that the state, holder or medium changed. */
void recorder_changed(Recorder *r);

/* Logs that the recorder came or went, for the administrator: message_id (RECORDER_ADDED or
 * _REMOVED of common/message-id.h), IMAPI_RECORDER, IMAPI_DEVICE and the caller's location. */
#define recorder_log_event(r, level, message_id, ...) \
        recorder_log_event_internal(__FILE__, __LINE__, __func__, r, level, message_id, __VA_ARGS__)
void recorder_log_event_internal(const char *file, int line, const char *func, const Recorder *r, int level,
                                 sd_id128_t message_id, const char *fmt, ...) _printf_(7, 8);
