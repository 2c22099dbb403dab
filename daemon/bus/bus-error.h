/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the core's errors become D-Bus errors, and the calls the core answers later: a
 * BusPending keeps the method call (and with it the fds and data it carries) until the core's
 * done callback (async.h) runs, and then replies, as iwd's pending replies do.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "imapi-error.h"

/* The D-Bus error for r and e ("name: 0x...: sentence"); a bare errno when e says nothing.
 * Returns r. */
int bus_error_set_imapi(sd_bus_error *error, int r, const ImapiError *e);

/* Appends the reply's arguments for the work's result (NULL: the reply is empty). */
typedef int (*bus_reply_fn)(sd_bus_message *reply, void *result);

typedef struct BusPending BusPending;

/* NULL when out of memory. */
BusPending *bus_pending_new(sd_bus_message *m, bus_reply_fn reply);
/* A core_done_fn with the BusPending as userdata: replies and frees it. */
void bus_pending_done(void *userdata, int r, const ImapiError *error, void *result);
/* What a handler returns after calling the core with p: for r < 0 the error (p is freed), for 0
 * the reply now (p is freed), for 1 nothing (p answers later). */
int bus_pending_return(BusPending *p, int r, const ImapiError *e, sd_bus_error *error);
