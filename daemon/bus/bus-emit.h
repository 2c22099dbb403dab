/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's observer on the bus: which properties each change of the core touches, and the
 * signals of its events. The property-name tables and signal signatures live here and nowhere
 * else.
 */
#pragma once

#include "bus/bus-daemon.h"
#include "core/observer.h"

/* The observer that emits on d's connections. */
void bus_emit_observer(BusDaemon *d, CoreObserver *ret);
