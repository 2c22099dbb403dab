/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How the core tells whoever serves it (the bus layer) what happened: objects that came and
 * went, which fields of an object changed, the events of a disc master (IMAPI's progress
 * callbacks), and the end of a job. No names, signatures or bus objects here: the bus layer
 * owns the property names and signal signatures, and decides what to emit where.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Recorder Recorder;
typedef struct Master Master;
typedef struct Job Job;

typedef enum ObjectKind {
        OBJECT_RECORDER,
        OBJECT_MASTER,
        OBJECT_JOB,
} ObjectKind;

/* Groups of fields, each a bit, that change together. */
typedef enum RecorderChange {
        RECORDER_CHANGED_STATE = 1 << 0,        /* state, holder, medium, profiles, speeds */
        RECORDER_CHANGED_PRESENT = 1 << 1,      /* the device came or went */
        RECORDER_CHANGED_WRITE_SPEED = 1 << 2,  /* the WriteSpeed recorder property */
} RecorderChange;

typedef enum MasterChange {
        MASTER_CHANGED_STATE = 1 << 0,          /* opened, format, recorder and the block counts */
        MASTER_CHANGED_JOB = 1 << 1,            /* a burn started or ended */
        MASTER_CHANGED_DATA_USED = 1 << 2,      /* the staged data's size */
        MASTER_CHANGED_AUDIO = 1 << 3,          /* the staged audio tracks and their room */
} MasterChange;

typedef enum JobChange {
        JOB_CHANGED_PHASE = 1 << 0,             /* phase (and with it rate and buffer) */
        JOB_CHANGED_PROGRESS = 1 << 1,          /* progress, rate, expected end, buffer */
        JOB_CHANGED_BYTES = 1 << 2,             /* the size of the work */
        JOB_CHANGED_RESULT = 1 << 3,            /* completed: phase, result, progress, cancelable */
        JOB_CHANGED_STATUS = 1 << 4,            /* what it waits for */
} JobChange;

typedef enum ManagerChange {
        MANAGER_CHANGED_RECORDERS = 1 << 0,
        MANAGER_CHANGED_JOBS = 1 << 1,
} ManagerChange;

/* IDiscMasterProgressEvents. */
typedef enum MasterEventKind {
        MASTER_EVENT_PNP_ACTIVITY,      /* the recorders it can use may have changed */
        MASTER_EVENT_ADD_PROGRESS,      /* a: blocks staged, b: of the call's total */
        MASTER_EVENT_BLOCK_PROGRESS,    /* a: blocks written, b: of the burn's total */
        MASTER_EVENT_TRACK_PROGRESS,    /* a: tracks written, b: of the tracks */
        MASTER_EVENT_PREPARING_BURN,    /* a: estimated seconds */
        MASTER_EVENT_CLOSING_DISC,      /* a: estimated seconds */
        MASTER_EVENT_BURN_COMPLETE,     /* hresult: the outcome */
} MasterEventKind;

typedef struct MasterEvent {
        MasterEventKind kind;
        int32_t a, b;
        uint32_t hresult;
} MasterEvent;

/* Every member may be NULL. */
typedef struct CoreObserver {
        void (*object_added)(void *userdata, ObjectKind kind, void *object);
        void (*object_removed)(void *userdata, ObjectKind kind, void *object);
        void (*recorder_changed)(void *userdata, Recorder *r, unsigned changes);
        void (*master_changed)(void *userdata, Master *m, unsigned changes);
        void (*job_changed)(void *userdata, Job *j, unsigned changes);
        void (*manager_changed)(void *userdata, unsigned changes);
        void (*master_event)(void *userdata, Master *m, const MasterEvent *e);
        void (*erase_complete)(void *userdata, Recorder *r, uint32_t hresult);
        /* Before the job goes away; message is the text of a failure or of a note. */
        void (*job_completed)(void *userdata, Job *j, bool success, const char *message);
        /* A burn or erase started or ended (logind's inhibitor is held in between). */
        void (*work_started)(void *userdata, const char *why);
        void (*work_ended)(void *userdata);
        void *userdata;
} CoreObserver;
