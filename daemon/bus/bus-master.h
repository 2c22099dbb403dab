/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the disc master's three adapters (DiscMaster, JolietDiscMaster, RedbookDiscMaster) share. */
#pragma once

#include <systemd/sd-bus.h>

#include "core/client.h"
#include "core/master.h"

/* Only the client that created a disc master may use it; *ret (may be NULL) is that client. */
int bus_master_check_caller(sd_bus_message *msg, Master *m, Client **ret, sd_bus_error *error);
