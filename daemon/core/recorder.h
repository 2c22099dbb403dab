/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recorder: one drive with IDiscRecorder's rules. Exclusive access (OpenExclusive/Close)
 * belongs to one client at a time; media queries need it; a client that goes away releases it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "core/daemon.h"
#include "media/drive.h"

/* IMAPI's AudioGapSize: 2 seconds by default, at most 3 (75 blocks a second). */
#define RECORDER_AUDIO_GAP_DEFAULT 150
#define RECORDER_AUDIO_GAP_MAX 225

/* Who else may be using the drive. */
typedef enum RecorderUser {
        RECORDER_USER_NONE,
        RECORDER_USER_CLIENT,   /* OpenExclusive */
        RECORDER_USER_JOB,      /* a burn or erase */
} RecorderUser;

typedef struct RecorderPrep RecorderPrep;

struct Recorder {
        Daemon *daemon;
        char *id;               /* "sr0", "stdio0" */
        char *path;             /* object path */
        Drive *drive;
        bool present;

        Client *owner;          /* OpenExclusive holder */
        unsigned busy;          /* jobs using the drive */
        RecorderPrep *prep;     /* a call's grab and read running in a worker */

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

int recorder_new(Daemon *d, Drive *drive, const char *id, Recorder **ret);
Recorder *recorder_free(Recorder *r);

/* Returns 0 when done, 1 when the call comes back (recorder_prepare()), or a negative errno. */
int recorder_open_exclusive(Recorder *r, Client *c, sd_bus_message *call, sd_bus_error *error);
int recorder_close(Recorder *r, Client *c, sd_bus_error *error);
/* IMAPI_E_DEVICE_NOTPRESENT for a recorder whose device has gone. */
int recorder_check_present(Recorder *r, sd_bus_error *error);
/* Checks that c holds the recorder (IMAPI_E_NOTOPENED otherwise). */
int recorder_check_owner(Recorder *r, Client *c, sd_bus_error *error);
int recorder_refresh_media(Recorder *r, sd_bus_error *error);
/* The IMAPI errors for a drive_grab() that failed with k (DEVICE_STILL_IN_USE for -EBUSY,
 * else DEVICE_NOTPRESENT) and for a failed read of the grabbed drive (DEVICE_NOTPRESENT for a
 * drive that no longer answers, else DISCINFO). */
int recorder_grab_error(Recorder *r, int k, sd_bus_error *error);
int recorder_read_error(Recorder *r, int k, sd_bus_error *error);

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
int recorder_apply_readout(Recorder *r, RecorderReadout *ro);
void recorder_readout_done(RecorderReadout *ro);

/* For a method that needs the drive grabbed and its disc read (recorder-prepare.c): the first
 * time, a worker grabs (loading the tray if asked) and reads while the recorder is reserved,
 * and 0 is returned: the handler returns 1 without replying, and the call is queued again when
 * the read is done (as after a polkit check: everything before must be repeatable). Then 1 is
 * returned: the drive is grabbed, the recorder's media are fresh, and the handler must keep or
 * drive_release() the grab. Errors: DEVICE_STILL_IN_USE (another program has the drive),
 * DEVICE_NOTPRESENT, DISCINFO, DEVICE_NOTACCESSIBLE (another call is reading it). */
int recorder_prepare(Recorder *r, sd_bus_message *call, bool load, sd_bus_error *error);
/* A job or a prepare holds the drive. */
bool recorder_reserved(const Recorder *r);
/* At exit: drops a prepare whose call will not come back. */
void recorder_prep_cancel(Recorder *r);
int recorder_eject(Recorder *r, Client *c, sd_bus_error *error);

/* IMAPI's QueryMediaType values for the current medium. */
void recorder_media_type(const Recorder *r, int *ret_type, int *ret_flags);
int recorder_type(const Recorder *r);
uint32_t recorder_state(const Recorder *r);
int recorder_max_write_speed_x(const Recorder *r);
bool recorder_buf_capable(const Recorder *r);
void recorder_guid(const Recorder *r, uint8_t ret[16]);
char *recorder_pnp_id(const Recorder *r);
const char *recorder_device(const Recorder *r);

void recorder_reset_properties(Recorder *r);
/* The device vanished (or came back): a vanished recorder leaves the object tree but keeps its
 * path, where every call gives IMAPI_E_DEVICE_NOTPRESENT; its holder loses it. */
void recorder_set_present(Recorder *r, bool present);
/* Called when a client disappears. */
void recorder_client_gone(Recorder *r, Client *c);

/* Emits PropertiesChanged for the properties that depend on the medium and on ownership. */
void recorder_emit_changed(Recorder *r);
