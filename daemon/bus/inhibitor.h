/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A logind inhibitor (sleep and shutdown, mode block) held while a burn or an erase runs: a
 * suspend halfway through a burn ruins the disc. Reference counted: every running job acquires
 * it once and releases it once. Without logind (or without a bus) it is a harmless no-op.
 */
#pragma once

#include <stdbool.h>

#include "bus/bus-daemon.h"

/* why: shown by systemd-inhibit --list, e.g. "Burning a disc in sr0". Asks logind
 * asynchronously for the first reference; later ones only count. Returns < 0 only when out of
 * memory. */
int inhibitor_acquire(BusDaemon *d, const char *why);
/* Drops one reference; the inhibitor is closed with the last one. */
void inhibitor_release(BusDaemon *d);

/* Whether logind's inhibitor fd is held right now (it arrives asynchronously). */
bool inhibitor_is_held(const BusDaemon *d);

/* Drops the inhibitor whatever its count (at exit). */
void inhibitor_done(BusDaemon *d);
