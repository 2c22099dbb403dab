/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One RecordDiscTo call for several recorders, its jobs followed side by side (a progress row
 * each), and at the end a table of what each recorder produced: verified, written but not
 * verified, or failed with the IMAPI error. The event loop the bus is attached to exits with
 * CTL_EXIT_OK only if every recorder succeeded.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "progress.h"
#include "targets.h"

typedef struct RecordMany RecordMany;

/* RecordDiscTo(the usable targets, simulate, eject_after, ...): the caller appends the a{sv}. */
int record_many_call(sd_bus *bus, const char *master, const Targets *t, bool simulate, bool eject,
                     sd_bus_message **ret);

/* Sends call and follows its jobs on the bus' event loop; verify: the burns were asked to
 * verify. The Targets must outlive the RecordMany (the table fills in their media). Returns an
 * exit code (the call refused). */
int record_many_start(sd_bus *bus, Progress *p, sd_bus_message *call, Targets *t, bool verify,
                      bool simulate, RecordMany **ret);
RecordMany *record_many_free(RecordMany *r);

/* record_many_start() on an event loop of its own, until every job has ended (Ctrl-C as below);
 * the exit code. */
int record_many_run(sd_bus *bus, Progress *p, sd_bus_message *call, Targets *t, bool verify, bool simulate);

/* Ctrl-C: the first cancels every job, the second stops waiting (as job_follow_interrupt()). */
void record_many_interrupt(RecordMany *r);

static inline void record_many_freep(RecordMany **r) {
        record_many_free(*r);
}
