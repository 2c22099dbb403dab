/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recorders one burn goes to (burn --recorder given more than once, --all-recorders, copy's
 * --to): named, each disc checked by imapid before anything is staged, and with --all-recorders
 * the ones that cannot take the burn left out, each with the reason.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct Target {
        char *path;             /* the recorder's object path */
        char *id;               /* its Id (sr0), for rows and the table */
        char *medium;           /* CurrentProfileName once its disc was read */
        int64_t blocks;         /* Joliet: TotalDataBlocks on its disc; -1 unknown */
        char *skipped;          /* --all-recorders: why it is left out ("IMAPI_E_X: message"), NULL if not */
} Target;

typedef struct Targets {
        Target *v;
        size_t n;
        bool all;               /* --all-recorders: a recorder refused is skipped, not the end */
} Targets;

/* The recorders named (object paths already resolved), or with all every recorder imapid has. */
int targets_new(sd_bus *bus, char *const *paths, size_t n, bool all, Targets *ret);
void targets_done(Targets *t);

/* Before staging: each disc checked by making its recorder the master's active one (the disc
 * is read; SetActiveDiscRecorder with replace). A refusal ends the burn (its exit code), or with
 * all skips the recorder. Then the active recorder is the one AddData should measure against:
 * the smallest disc (all: the largest, the others checked again after staging). */
int targets_check(Targets *t, sd_bus *bus, const char *master, bool replace, bool joliet);
/* After staging, with all: the recorders whose disc cannot take what is staged are skipped. */
int targets_recheck(Targets *t, sd_bus *bus, const char *master, bool replace);

size_t targets_usable(const Targets *t);
/* The usable recorders' object paths, as an "ao" argument. */
int targets_append(const Targets *t, sd_bus_message *m);
