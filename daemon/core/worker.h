/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking work off the event loop: copying into the stash, building an image, reading a disc
 * back. A task runs in a thread of its own and must not touch sd-bus or sd-event; when it is
 * done, its completion callback runs on the event loop, woken through an eventfd.
 */
#pragma once

#include <systemd/sd-event.h>

typedef struct Worker Worker;

typedef void (*worker_run_fn)(void *userdata);  /* in the thread */
typedef void (*worker_done_fn)(void *userdata); /* on the event loop, after run returned */

int worker_new(sd_event *event, Worker **ret);
/* Waits for every running task and runs their completions. */
Worker *worker_free(Worker *w);

int worker_submit(Worker *w, worker_run_fn run, worker_done_fn done, void *userdata);
unsigned worker_running(const Worker *w);
