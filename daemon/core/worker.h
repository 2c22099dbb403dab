/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking work off the event loop: copying into the stash, building an image, reading a disc
 * back. A task runs in a worker thread and must not touch sd-bus or sd-event; when it is done,
 * its completion callback runs on the event loop, woken through an eventfd.
 *
 * A task starts at once: on an idle thread of the pool, which starts with the worker, or on a
 * new thread when every thread is busy, so a task that holds its thread for long (a drive's
 * spin-up, an image build) never holds up another. A thread that finishes a task stays for the
 * next one if the pool is short of idle threads, and ends otherwise.
 */
#pragma once

#include <systemd/sd-event.h>

typedef struct Worker Worker;

typedef void (*worker_run_fn)(void *userdata);  /* in the thread */
typedef void (*worker_done_fn)(void *userdata); /* on the event loop, after run returned */

/* With a pool sized for the machine. */
int worker_new(sd_event *event, Worker **ret);
/* With a pool of `keep` threads (0: none, a thread per task). */
int worker_new_keep(sd_event *event, unsigned keep, Worker **ret);
/* Waits for every task, those that completions submit meanwhile too, runs their completions,
 * and ends the threads. */
Worker *worker_free(Worker *w);

int worker_submit(Worker *w, worker_run_fn run, worker_done_fn done, void *userdata);
/* Tasks submitted whose completion has not run yet. */
unsigned worker_running(const Worker *w);
/* Threads that exist now, busy or idle. */
unsigned worker_threads(Worker *w);
