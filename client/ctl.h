/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every imapictl verb shares: the connection, naming recorders, reporting errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "format-util.h"

/* Exit codes, documented in imapictl(1). */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILED = 1,      /* imapid refused or the operation failed */
        CTL_EXIT_USAGE = 2,       /* bad command line */
        CTL_EXIT_UNAVAILABLE = 3, /* imapid cannot be reached */
        CTL_EXIT_NOTFOUND = 4,    /* no such recorder or job */
        CTL_EXIT_CANCELLED = 5,   /* the job was cancelled */
        CTL_EXIT_SOME_FAILED = 6, /* a burn to several recorders failed on some, succeeded on others */
};

typedef struct CtlOptions {
        const char *bus_address;
        const char *socket_path;  /* a peer-to-peer socket (imapid.socket) */
        bool json;
        bool no_ask;
} CtlOptions;

extern CtlOptions arg;

/* Connects to imapid: --socket, --bus-address, $IMAPI_BUS_ADDRESS, the system bus if imapid is
 * running or activatable there, else its peer-to-peer socket if that exists. Returns an exit code. */
int ctl_connect(sd_bus **ret);
/* Prints "imapictl: WHAT: org.imapid.Imapi1.Error.IMAPI_E_X: 0x8004...: sentence" for a failed call:
 * the D-Bus error name as the bus has it, and imapid's message (which starts with the HRESULT).
 * Returns the exit code. */
int ctl_report_error(const char *what, const sd_bus_error *error, int r);
/* An error message with a repeated HRESULT prefix ("0x80040227: 0x80040227: ...") shown once. */
const char *ctl_error_message(const char *message);

/* Calls a method on an imapid object; on failure reports it and returns a (positive) exit code. */
int ctl_call(sd_bus *bus, const char *path, const char *interface, const char *member, sd_bus_message **reply,
             const char *types, ...);

/* The object paths of all recorders, in imapid's order. */
int ctl_list_recorders(sd_bus *bus, char ***ret);
/* Finds a recorder by index, id, device, address or object path; NULL picks the first one. */
int ctl_resolve_recorder(sd_bus *bus, const char *name, char **ret_path);

int ctl_get_string(sd_bus *bus, const char *path, const char *interface, const char *property, char **ret);

/* From here on, SIGINT and SIGTERM are delivered to handler on the event loop instead of
 * killing imapictl, so that a verb can stop its work cleanly. Returns a negative errno. */
int ctl_catch_signals(sd_event *event, sd_event_signal_handler_t handler, void *userdata,
                      sd_event_source **ret_sigint, sd_event_source **ret_sigterm);
