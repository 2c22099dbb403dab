/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the core reports, as PropertiesChanged, ObjectManager and IMAPI signals (bus-emit.h). */

#include <stdlib.h>

#include <imapi/imapi.h>

#include "bus/bus-emit.h"
#include "bus/inhibitor.h"
#include "core/job.h"
#include "core/master.h"
#include "core/recorder.h"
#include "log.h"
#include "macro.h"

/* One PropertiesChanged per change bit: which interface, which properties. */
typedef struct ChangeMap {
        unsigned bit;
        const char *interface;
        const char *const *names;
} ChangeMap;

#define NAMES(...) ((const char *const[]) { __VA_ARGS__, NULL })

static const ChangeMap recorder_changes[] = {
        { RECORDER_CHANGED_STATE, IMAPI_RECORDER_INTERFACE,
          NAMES("State", "ExclusiveOwner", "MediaPresent", "MediaType", "MediaFlags", "MediaStatus",
                "MediaIncompleteSession", "CurrentProfile", "CurrentProfileName", "SupportedProfiles", "WriteSpeeds", "WriteSpeed",
                "MaxWriteSpeed", "BufferUnderrunFreeCapable") },
        { RECORDER_CHANGED_PRESENT, IMAPI_RECORDER_INTERFACE, NAMES("Present") },
        { RECORDER_CHANGED_WRITE_SPEED, IMAPI_RECORDER_INTERFACE, NAMES("WriteSpeed") },
        {}
};

#define REDBOOK_COUNTS NAMES("TotalAudioTracks", "TotalAudioBlocks", "UsedAudioBlocks", "AvailableAudioTrackBlocks", \
                             "AlbumTitle", "AlbumPerformer", "AudioTrackText")

static const ChangeMap master_changes[] = {
        { MASTER_CHANGED_STATE, IMAPI_DISC_MASTER_INTERFACE, NAMES("Opened", "ActiveFormat",
                                                                   "ActiveRecorder") },
        { MASTER_CHANGED_STATE, IMAPI_JOLIET_INTERFACE, NAMES("TotalDataBlocks", "UsedDataBlocks") },
        { MASTER_CHANGED_STATE, IMAPI_REDBOOK_INTERFACE, REDBOOK_COUNTS },
        { MASTER_CHANGED_STATE, IMAPI_IMAGE_INTERFACE, NAMES("ImageSize") },
        { MASTER_CHANGED_JOB, IMAPI_DISC_MASTER_INTERFACE, NAMES("Job") },
        { MASTER_CHANGED_DATA_USED, IMAPI_JOLIET_INTERFACE, NAMES("UsedDataBlocks") },
        { MASTER_CHANGED_DATA_USED, IMAPI_IMAGE_INTERFACE, NAMES("ImageSize") },
        { MASTER_CHANGED_AUDIO, IMAPI_REDBOOK_INTERFACE, REDBOOK_COUNTS },
        {}
};

static const ChangeMap job_changes[] = {
        { JOB_CHANGED_PHASE, IMAPI_JOB_INTERFACE, NAMES("Phase", "Rate", "BufferFill", "DriveBufferFill") },
        { JOB_CHANGED_PROGRESS, IMAPI_JOB_INTERFACE,
          NAMES("Progress", "ProgressValid", "Rate", "ExpectedEndTime", "BufferFill", "DriveBufferFill") },
        { JOB_CHANGED_BYTES, IMAPI_JOB_INTERFACE, NAMES("Bytes") },
        { JOB_CHANGED_STATUS, IMAPI_JOB_INTERFACE, NAMES("Status") },
        { JOB_CHANGED_RESULT, IMAPI_JOB_INTERFACE, NAMES("Phase", "HResult", "Progress", "Cancelable",
                                                         "BufferFill", "DriveBufferFill") },
        {}
};

static const ChangeMap manager_changes[] = {
        { MANAGER_CHANGED_RECORDERS, IMAPI_MANAGER_INTERFACE, NAMES("Recorders") },
        { MANAGER_CHANGED_JOBS, IMAPI_MANAGER_INTERFACE, NAMES("Jobs") },
        {}
};

static void emit_changes(BusDaemon *d, const char *path, const ChangeMap *map, unsigned changes) {
        for (const ChangeMap *c = map; c->interface; c++)
                if (changes & c->bit)
                        bus_daemon_emit_properties_changed(d, path, c->interface, c->names);
}

static char *object_path(ObjectKind kind, void *object) {
        return kind == OBJECT_RECORDER ? bus_recorder_path(object) :
               kind == OBJECT_MASTER ? bus_master_path(object) : bus_job_path(object);
}

static void on_object_added(void *userdata, ObjectKind kind, void *object) {
        BusDaemon *d = userdata;
        _cleanup_free_ char *path = object_path(kind, object);

        for (size_t i = 0; path && i < d->n_buses; i++)
                (void) sd_bus_emit_object_added(d->buses[i], path);
}

static void on_object_removed(void *userdata, ObjectKind kind, void *object) {
        BusDaemon *d = userdata;
        _cleanup_free_ char *path = object_path(kind, object);

        for (size_t i = 0; path && i < d->n_buses; i++)
                (void) sd_bus_emit_object_removed(d->buses[i], path);
}

static void on_recorder_changed(void *userdata, Recorder *r, unsigned changes) {
        _cleanup_free_ char *path = bus_recorder_path(r);

        emit_changes(userdata, path, recorder_changes, changes);
}

static void on_master_changed(void *userdata, Master *m, unsigned changes) {
        _cleanup_free_ char *path = bus_master_path(m);

        /* The state's properties include the staged data's and audio's. */
        if (changes & MASTER_CHANGED_STATE)
                changes &= ~(unsigned) (MASTER_CHANGED_DATA_USED | MASTER_CHANGED_AUDIO);
        emit_changes(userdata, path, master_changes, changes);
}

static void on_job_changed(void *userdata, Job *j, unsigned changes) {
        _cleanup_free_ char *path = bus_job_path(j);

        emit_changes(userdata, path, job_changes, changes);
}

static void on_manager_changed(void *userdata, unsigned changes) {
        emit_changes(userdata, IMAPI_MANAGER_PATH, manager_changes, changes);
}

/* IDiscMasterProgressEvents, as signals of the disc master. */
static void on_master_event(void *userdata, Master *m, const MasterEvent *e) {
        _cleanup_free_ char *path = bus_master_path(m);
        BusDaemon *d = userdata;
        const char *i = IMAPI_DISC_MASTER_INTERFACE;

        switch (e->kind) {
        case MASTER_EVENT_PNP_ACTIVITY:
                bus_daemon_emit_signal(d, path, i, "PnPActivity", NULL);
                break;
        case MASTER_EVENT_ADD_PROGRESS:
                bus_daemon_emit_signal(d, path, i, "AddProgress", "ii", e->a, e->b);
                break;
        case MASTER_EVENT_BLOCK_PROGRESS:
                bus_daemon_emit_signal(d, path, i, "BlockProgress", "ii", e->a, e->b);
                break;
        case MASTER_EVENT_TRACK_PROGRESS:
                bus_daemon_emit_signal(d, path, i, "TrackProgress", "ii", e->a, e->b);
                break;
        case MASTER_EVENT_PREPARING_BURN:
                bus_daemon_emit_signal(d, path, i, "PreparingBurn", "i", e->a);
                break;
        case MASTER_EVENT_CLOSING_DISC:
                bus_daemon_emit_signal(d, path, i, "ClosingDisc", "i", e->a);
                break;
        case MASTER_EVENT_BURN_COMPLETE:
                bus_daemon_emit_signal(d, path, i, "BurnComplete", "u", e->hresult);
                break;
        }
}

static void on_erase_complete(void *userdata, Recorder *r, uint32_t hresult) {
        _cleanup_free_ char *path = bus_recorder_path(r);

        bus_daemon_emit_signal(userdata, path, IMAPI_RECORDER_INTERFACE, "EraseComplete", "u", hresult);
}

static void on_job_completed(void *userdata, Job *j, bool success, const char *message) {
        _cleanup_free_ char *path = bus_job_path(j);

        bus_daemon_emit_signal(userdata, path, IMAPI_JOB_INTERFACE, "Completed", "bs", success, message ?: "");
}

/* Suspending or shutting down in the middle of a burn or an erase would ruin the disc. */
static void on_work_started(void *userdata, const char *why) {
        if (inhibitor_acquire(userdata, why) < 0)
                log_oom();
}

static void on_work_ended(void *userdata) {
        inhibitor_release(userdata);
}

void bus_emit_observer(BusDaemon *d, CoreObserver *ret) {
        *ret = (CoreObserver) {
                .object_added = on_object_added,
                .object_removed = on_object_removed,
                .recorder_changed = on_recorder_changed,
                .master_changed = on_master_changed,
                .job_changed = on_job_changed,
                .manager_changed = on_manager_changed,
                .master_event = on_master_event,
                .erase_complete = on_erase_complete,
                .job_completed = on_job_completed,
                .work_started = on_work_started,
                .work_ended = on_work_ended,
                .userdata = d,
        };
}
