/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Following an imapid job to its end from an sd-event loop: its properties (PropertiesChanged
 * and one GetAll), its Completed signal, its disappearance; Ctrl-C turned into Job.Cancel. When
 * the job ends the loop exits with imapictl's exit code for the outcome (see ctl.h).
 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "progress.h"

typedef struct JobFollow JobFollow;

/* Subscribes to the signals of all jobs, so that none is missed between a call that starts a
 * job and job_follow_start(). The bus must be attached to an sd-event loop. */
int job_follow_new(sd_bus *bus, Progress *p, JobFollow **ret);
JobFollow *job_follow_free(JobFollow *f);

/* Follows this job: reads its properties once, then shows every change until it completes.
 * operation is what the call that started the job knows it to be ("burn", "read"), shown if the
 * job ends before its properties could be read; NULL if the caller does not know. */
int job_follow_start(JobFollow *f, const char *path, const char *operation);

/* Instead of showing the job on its Progress and ending the loop (several jobs followed at once):
 * changed() after every change of the job's state, ended() once with the exit code of the outcome.
 * Notes about the connection still go to the Progress; Cancel's note is the observer's to give. */
typedef struct JobFollowObserver {
        void (*changed)(JobFollow *f, const JobState *s, void *userdata);
        void (*ended)(JobFollow *f, int code, void *userdata);
} JobFollowObserver;
void job_follow_set_observer(JobFollow *f, const JobFollowObserver *o, void *userdata);

/* Ctrl-C or SIGTERM while following: the first asks the job to stop (Job.Cancel) and waits for it
 * to end; the second stops waiting (imapid still finishes the cancellation and cleans up). */
void job_follow_interrupt(JobFollow *f);

/* Reads an a{sv} of org.imapid.Imapi1.Job properties (GetAll, PropertiesChanged) into s. */
int job_state_read(sd_bus_message *m, JobState *s);

const JobState *job_follow_state(const JobFollow *f);

/* Ends the sd-event loop the bus is attached to with this exit code, leaving the connection open. */
void ctl_event_exit(sd_bus *bus, int code);

/* The exit code for an HRESULT: 0 for success codes, CTL_EXIT_CANCELLED for IMAPI_E_USERABORT,
 * else CTL_EXIT_FAILED. */
int exit_code_from_hresult(uint32_t hr);

static inline void job_follow_freep(JobFollow **f) {
        job_follow_free(*f);
}
