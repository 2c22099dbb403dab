/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the disc master's adapters (DiscMaster, JolietDiscMaster, RedbookDiscMaster, ImageDiscMaster)
 * share. */
#pragma once

#include <systemd/sd-bus.h>

#include "core/client.h"
#include "core/master.h"

/* Only the client that created a disc master may use it; *ret (may be NULL) is that client. */
int bus_master_check_caller(sd_bus_message *msg, Master *m, Client **ret, sd_bus_error *error);

/* A method (h fd, a{sv} options) that the core answers later (async.h), the fd staying open in
 * the message until then: AddAudioTrackBlocksFromFd, SetImage. No options are defined. */
typedef int (*bus_master_fd_fn)(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error);
/* A pending call's reply with the job it started (bus-error.h). */
int bus_master_reply_job(sd_bus_message *reply, void *result);
int bus_master_fd_method(sd_bus_message *msg, Master *m, bus_master_fd_fn fn, sd_bus_error *error);
