/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager: every object of the core (recorders, clients, disc masters, jobs), the event loop
 * they run on, the workers that do their blocking work, and the decision to exit. It tells the
 * layer that serves it what happens through its observer (observer.h). One thread owns it all.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/limits.h"
#include "core/observer.h"
#include "imapi-error.h"

typedef struct Config Config;
typedef struct Client Client;
typedef struct Manager Manager;
typedef struct Worker Worker;
typedef struct Drive Drive;
typedef struct RecorderReadout RecorderReadout;

struct Manager {
        sd_event *event;
        const Config *config;
        Worker *worker;         /* blocking work: stash copies, image builds, verification */
        CoreObserver observer;

        Recorder **recorders;
        size_t n_recorders;

        Client **clients;
        size_t n_clients;

        Master **masters;
        size_t n_masters;
        unsigned next_master_id;

        Job **jobs;
        size_t n_jobs;
        unsigned next_job_id;

        Limits limits;          /* from the fd budget (limits.h) */
        size_t n_call_fds;      /* client fds that calls in progress hold */
        size_t n_stashes_leaving; /* of masters that are gone, still being deleted by a worker */

        bool exiting;           /* SIGTERM: cancel work, exit when it has stopped */
        sd_event_source *hotplug; /* hotplug.c: looking for drives that come and go */
        uint32_t hotplug_rejected; /* /dev/srN nodes that are not usable drives, by N */
        uint32_t hotplug_looking; /* /dev/srN nodes whose first look runs in a worker, by N */
};

/* The limits come from the fd budget the process has now (RLIMIT_NOFILE): -EMFILE when it is too
 * small for imapid to serve anyone (limits_derive()). */
int manager_new(sd_event *event, const Config *config, Manager **ret);
Manager *manager_free(Manager *m);
/* The observer is told of everything from now on; NULL stops that (before its owner goes). */
void manager_set_observer(Manager *m, const CoreObserver *o);

/* Finds the recorders: the hardware scan (unless disabled) and the configured addresses. */
int manager_add_recorders(Manager *m);
/* Adds a recorder for a libburn address; -EBUSY when another process holds the drive. It looks
 * at the drive on the calling thread: at start-up, before the loop serves anyone. */
int manager_add_address(Manager *m, const char *address);
/* Adds the recorder of a drive found at address, with what a worker read of it (first_look,
 * whose arrays it takes; NULL: read here). Takes the drive, unless it fails. */
int manager_add_drive(Manager *m, const char *address, Drive *drive, RecorderReadout *first_look);
Recorder *manager_find_recorder(Manager *m, const char *id);
Master *manager_find_master(Manager *m, unsigned id);
Job *manager_find_job(Manager *m, unsigned id);

/* Clients: whoever holds a recorder, a disc master or a job. The layer that serves the core
 * knows who they are; the core counts them against MaxClients. */
int manager_add_client(Manager *m, uid_t uid, const char *description, Client **ret, ImapiError *error);
/* The client went away: releases what it held, then drops it. */
void manager_client_gone(Manager *m, Client *c);

/* A call that keeps n of the client's fds open until it is done (AddData's sources) takes them
 * from the budget for calls in progress, and gives them back when done: a call past the budget
 * fails with IMAPI_E_OUTOFMEMORY instead of imapid running out of descriptors. */
int manager_hold_call_fds(Manager *m, size_t n, ImapiError *error);
void manager_release_call_fds(Manager *m, size_t n);

/* CreateDiscMaster, with the limits of masters in all and per client. */
int manager_create_master(Manager *m, Client *c, Master **ret, ImapiError *error);

/* SIGTERM/SIGINT: cancels running jobs and staging, and leaves the event loop once they have
 * stopped and cleaned up. manager_check_exit() is called whenever such work ends. */
void manager_request_exit(Manager *m);
void manager_check_exit(Manager *m);
/* No clients, disc masters, jobs, held or reserved recorders. */
bool manager_is_idle(const Manager *m);

/* One dispatch of the event loop: its wall-clock time, the thread's CPU time in it, the times
 * it waited (voluntary context switches: a blocking call, a lock) and was preempted. */
typedef struct DispatchUsage {
        uint64_t usec, cpu_usec;
        uint64_t waits, preemptions;
} DispatchUsage;

/* Kept as the worst of every job that exists, and logged at debug when it is over
 * MANAGER_SLOW_DISPATCH_USEC, the most that any call may wait behind another's work. */
#define MANAGER_SLOW_DISPATCH_USEC 2000
void manager_note_dispatch(Manager *m, const DispatchUsage *u);

/* Telling the observer. */
void manager_notify_added(Manager *m, ObjectKind kind, void *object);
void manager_notify_removed(Manager *m, ObjectKind kind, void *object);
void manager_notify_recorder(Manager *m, Recorder *r, unsigned changes);
void manager_notify_master(Manager *m, Master *master, unsigned changes);
void manager_notify_job(Manager *m, Job *j, unsigned changes);
void manager_notify_manager(Manager *m, unsigned changes);
void manager_notify_event(Manager *m, Master *master, MasterEventKind kind, int32_t a, int32_t b,
                          uint32_t hresult);
void manager_notify_erase_complete(Manager *m, Recorder *r, uint32_t hresult);
void manager_notify_job_completed(Manager *m, Job *j, bool success, const char *message);
void manager_notify_work(Manager *m, bool started, const char *why);
