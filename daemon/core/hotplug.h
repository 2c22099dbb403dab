/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recorders that come and go (IMAPI's NotifyPnPActivity): the device nodes libburn would
 * enumerate (/dev/sr0 .. /dev/sr31) are looked at periodically. A new one becomes a recorder
 * (InterfacesAdded); one that vanished is marked not present (InterfacesRemoved, calls on its
 * path give IMAPI_E_DEVICE_NOTPRESENT) and comes back if the node reappears. Disc masters get
 * PnPActivity either way.
 */
#pragma once

#include <stdint.h>

#include "core/daemon.h"

/* interval 0: off. */
int hotplug_start(Daemon *d, uint64_t interval_usec);
void hotplug_stop(Daemon *d);
/* One look now (also used at start-up after the recorders were added). */
void hotplug_check(Daemon *d);
