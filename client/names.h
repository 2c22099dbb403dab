/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names `imapictl burn` stages, checked and reported before anything is sent: with
 * jolietname.h's rules, the same code imapid builds the Joliet tree with, so that what is
 * reported is what the disc holds.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct NameList NameList;

NameList *name_list_new(bool strict);
NameList *name_list_free(NameList *l);
/* Adds one path on the disc; a name no tree can hold (or, strict, no Joliet name) is printed
 * with the rule it breaks and returns the exit code CTL_EXIT_USAGE. */
int name_list_add(NameList *l, const char *path);
/* Prints which names the Joliet tree holds adapted, if any: a summary on stderr (every one with
 * verbose), or one JSON object on stdout with json. Returns an exit code. */
int name_list_report(NameList *l, bool verbose, bool json);

static inline void name_list_freep(NameList **l) {
        name_list_free(*l);
}
