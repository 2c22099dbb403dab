/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A job: long work (a burn, an erase) in the shape of udisks' Job, plus Phase and HResult. The
 * work itself belongs to whoever started the job (a disc master, a recorder); the job carries
 * its progress, its cancellation and its outcome.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/client.h"
#include "core/manager.h"
#include "imapi-error.h"
#include "macro.h"
#include "message-id.h"

typedef enum JobPhase {
        JOB_PHASE_PREPARING,    /* checking the medium, building the image */
        JOB_PHASE_WRITING,
        JOB_PHASE_CLOSING,      /* closing track/session/disc */
        JOB_PHASE_VERIFYING,    /* reading back what was written */
        JOB_PHASE_ERASING,
        JOB_PHASE_READING,      /* reading a disc into the stash (a copy's first half) */
        JOB_PHASE_WAITING,      /* a burn waits for a usable disc (RecordDisc's wait_for_medium) */
        JOB_PHASE_DONE,
        _JOB_PHASE_MAX,
} JobPhase;

typedef void (*job_cancel_fn)(Job *j, void *userdata);

struct Job {
        Manager *manager;
        unsigned id;
        char *operation;        /* "burn", "simulate", "erase" */
        Client *owner;          /* NULL once the client is gone: the job goes on */
        uid_t uid;
        /* What it works on: the disc master (0 for none) and the recorder. */
        unsigned master_id;
        char *recorder_id;

        JobPhase phase;
        char *status;           /* what the job waits for, in a sentence; NULL when it does not wait */
        double progress;        /* 0..1 of the whole job */
        bool progress_valid;
        uint64_t bytes;         /* the size of the work, in bytes, as udisks' Bytes */
        uint64_t rate;          /* bytes per second, 0 if unknown */
        uint64_t start_usec;    /* CLOCK_REALTIME, as udisks */
        uint64_t expected_end_usec;
        double buffer_fill;     /* the write FIFO's fill, 0..1; -1 when not writing */
        double drive_buffer_fill; /* the drive's own buffer as it last reported it, 0..1; -1 likewise */
        /* The lowest fills while writing, once each had been half full (the ramp-up at the start
         * does not count): how close the drive came to starving. -1 if never that full. */
        double lowest_buffer_fill, lowest_drive_buffer_fill;
        bool buffer_was_full, drive_buffer_was_full;
        bool cancelable;
        bool cancel_requested;
        bool completed;
        uint32_t hresult;

        /* rate estimation */
        uint64_t last_bytes_done;
        uint64_t last_sample_usec;

        /* The event loop's longest single dispatch while the job existed, from RecordDisc or
         * Erase to the end of its cleanup: what held up every other client meanwhile. */
        uint64_t longest_dispatch_usec;

        job_cancel_fn cancel;
        void *userdata;
};

/* Creates a job, announced to the observer. */
int job_new(Manager *m, const char *operation, Client *owner, unsigned master_id, const Recorder *recorder,
            Job **ret);
/* Removes and frees; the job must be completed (or never started). */
Job *job_free(Job *j);

void job_set_phase(Job *j, JobPhase phase);
/* The whole job's progress (0..1), the bytes done of the current phase, and the fill of the
 * buffer in front of the drive (-1: none). */
void job_set_progress(Job *j, double fraction, uint64_t bytes_done, double buffer_fill);
/* Ends the job: HResult, Phase "done", and the observer's job_completed(success, message). */
void job_complete(Job *j, uint32_t hresult, const char *message);

/* Asks the owner's cancel callback to stop the work; the job then completes with USERABORT. */
int job_request_cancel(Job *j, ImapiError *error);
/* What the job waits for (Status), or NULL: it no longer waits. */
int job_set_status(Job *j, const char *status);
/* The work's size changed (Bytes). */
void job_set_bytes(Job *j, uint64_t bytes);
/* While writing, before job_set_progress(), which sends it: the drive's buffer fill (-1 unknown);
 * keeps the lowest fills of both buffers. */
void job_set_drive_buffer(Job *j, double fill);

/* Logs an event of the job for the administrator: the journal entry has message_id
 * (common/message-id.h), the fields of log-job.h and the caller's source location. */
#define job_log(j, level, message_id, recorder, hresult, ...) \
        job_log_internal(__FILE__, __LINE__, __func__, j, level, message_id, recorder, hresult, __VA_ARGS__)
void job_log_internal(const char *file, int line, const char *func, Job *j, int level, sd_id128_t message_id,
                      const char *recorder, uint32_t hresult, const char *fmt, ...) _printf_(9, 10);

const char *job_phase_to_string(JobPhase p);
