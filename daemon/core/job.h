/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A job: long work (a burn, an erase) exported at /org/imapid/Imapi1/jobs/<n> in the shape of
 * udisks' Job, plus Phase and HResult. The work itself belongs to whoever started the job (a
 * disc master, a recorder); the job carries its progress, its cancellation and its outcome.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "core/daemon.h"

typedef enum JobPhase {
        JOB_PHASE_PREPARING,    /* checking the medium, building the image */
        JOB_PHASE_WRITING,
        JOB_PHASE_CLOSING,      /* closing track/session/disc */
        JOB_PHASE_VERIFYING,    /* reading back what was written */
        JOB_PHASE_ERASING,
        JOB_PHASE_DONE,
        _JOB_PHASE_MAX,
} JobPhase;

typedef void (*job_cancel_fn)(Job *j, void *userdata);

struct Job {
        Daemon *daemon;
        unsigned id;
        char *path;
        char *operation;        /* "burn", "simulate", "erase" */
        Client *owner;          /* NULL once the client is gone: the job goes on */
        uid_t uid;
        char *objects[2];       /* the disc master and/or recorder it works on */

        JobPhase phase;
        double progress;        /* 0..1 of the whole job */
        bool progress_valid;
        uint64_t bytes;         /* the size of the work, in bytes, as udisks' Bytes */
        uint64_t rate;          /* bytes per second, 0 if unknown */
        uint64_t start_usec;    /* CLOCK_REALTIME, as udisks */
        uint64_t expected_end_usec;
        double buffer_fill;     /* the write FIFO's fill, 0..1; -1 when not writing */
        bool cancelable;
        bool cancel_requested;
        bool completed;
        uint32_t hresult;

        /* rate estimation */
        uint64_t last_bytes_done;
        uint64_t last_sample_usec;

        job_cancel_fn cancel;
        void *userdata;
};

/* Creates and exports a job. */
int job_new(Daemon *d, const char *operation, Client *owner, const char *object1, const char *object2,
            Job **ret);
/* Unexports and frees; the job must be completed (or never started). */
Job *job_free(Job *j);

void job_set_phase(Job *j, JobPhase phase);
/* done/total of the current phase's work, with each phase's share of the whole job taken from
 * weights the owner set. Emits PropertiesChanged. */
void job_set_progress(Job *j, double fraction, uint64_t bytes_done, double buffer_fill);
/* Ends the job: HResult, Phase "done", Completed(success, message). */
void job_complete(Job *j, uint32_t hresult, const char *message);

/* Asks the owner's cancel callback to stop the work; the job then completes with USERABORT. */
int job_request_cancel(Job *j, sd_bus_error *error);

/* Logs an event of the job for the administrator, with IMAPI_JOB=, IMAPI_OPERATION=,
 * IMAPI_RECORDER= and IMAPI_HRESULT= fields in the journal. */
void job_log(Job *j, int level, const char *recorder, uint32_t hresult, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

const char *job_phase_to_string(JobPhase p);
Job *daemon_find_job_by_path(Daemon *d, const char *path);
