/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recorders that come and go (IMAPI's NotifyPnPActivity): the device nodes libburn would
 * enumerate (/dev/sr0 .. /dev/sr31) are looked at periodically. A new one becomes a recorder; one
 * that vanished is marked not present (the objects it answers as say IMAPI_E_DEVICE_NOTPRESENT)
 * and comes back if the node reappears. Disc masters get PnPActivity either way.
 */
#pragma once

#include <stdint.h>

#include "core/manager.h"

/* interval 0: off. */
int hotplug_start(Manager *m, uint64_t interval_usec);
void hotplug_stop(Manager *m);
/* One look now (also used at start-up after the recorders were added). */
void hotplug_check(Manager *m);
