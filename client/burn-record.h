/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recording step that data, image and audio burns share: the recorders of the command line
 * (one --recorder: RecordDisc, as IMAPI has it; several, or --all-recorders: one RecordDiscTo),
 * their discs checked before staging, the job or jobs followed, Ctrl-C, and with --keep further
 * copies to new discs from what is staged, until the user says no more.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "follow.h"
#include "progress.h"
#include "record-many.h"
#include "targets.h"

typedef struct BurnRecord {
        sd_bus *bus;
        Progress *progress;
        const char *master;
        bool many;              /* RecordDiscTo: several --recorder, or --all-recorders */
        char *recorder;         /* one recorder: its object path */
        Targets targets;        /* many: the recorders */
        JobFollow *follow;      /* one recorder: its job (the verb's, for the first burn) */
        RecordMany *record_many;
        /* Appends the options of this kind of burn to RecordDisc's open a{sv} (keep is added here). */
        int (*append_options)(sd_bus_message *m);
} BurnRecord;

/* The recorders from the command line, resolved (an exit code). */
int burn_record_init(BurnRecord *b, sd_bus *bus, Progress *p, JobFollow *follow,
                     int (*append_options)(sd_bus_message *m));
void burn_record_done(BurnRecord *b);

/* Before staging: the active recorder (and with several, every disc checked). */
int burn_record_prepare(BurnRecord *b, const char *master, bool replace, bool joliet);

/* After staging: RecordDisc or RecordDiscTo; the jobs are followed on the bus' event loop, which
 * exits with the exit code when they have all ended. */
int burn_record_start(BurnRecord *b);
void burn_record_interrupt(BurnRecord *b);

/* --keep, after a burn that succeeded everywhere: asks for new discs and burns them on a loop
 * of its own, as often as the user answers. The exit code of the last burn, 0 when the user
 * stops (end of input). */
int burn_record_again(BurnRecord *b);
