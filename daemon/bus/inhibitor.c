/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The logind inhibitor: org.freedesktop.login1.Manager.Inhibit on the bus, and the fd it returns. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "bus/inhibitor.h"
#include "log.h"
#include "macro.h"

struct Inhibitor {
        unsigned n_ref;
        int fd;                 /* logind holds the inhibitor until this is closed */
        sd_bus_slot *slot;      /* Inhibit() in flight */
};

/* logind lives on the system bus: the first connection that is a bus, not a peer. */
static sd_bus *inhibitor_bus(BusDaemon *d) {
        for (size_t i = 0; i < d->n_buses; i++)
                if (sd_bus_is_bus_client(d->buses[i]) > 0)
                        return d->buses[i];
        return NULL;
}

static int inhibit_callback(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Inhibitor *i = userdata;
        int fd, r;

        i->slot = sd_bus_slot_unref(i->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                /* No logind (a container, a test bus): nothing to hold, nothing to worry about. */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        log_debug("logind is not available; burning without an inhibitor.");
                else
                        log_warning("logind refused an inhibitor (%s: %s), burning without one.", e->name,
                                    strna(e->message));
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0) {
                log_warning_errno(r, "Unexpected reply from logind's Inhibit, ignoring: %m");
                return 0;
        }
        /* The message owns its fd. */
        i->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (i->fd < 0) {
                log_warning_errno(errno, "Failed to keep the inhibitor fd, ignoring: %m");
                return 0;
        }
        log_debug("Holding a logind inhibitor (sleep:shutdown, block).");
        return 0;
}

int inhibitor_acquire(BusDaemon *d, const char *why) {
        Inhibitor *i = d->inhibitor;
        sd_bus *bus;
        int r;

        if (!i) {
                i = calloc(1, sizeof(Inhibitor));
                if (!i)
                        return -ENOMEM;
                i->fd = -1;
                d->inhibitor = i;
        }
        if (i->n_ref++ > 0)
                return 0;

        bus = inhibitor_bus(d);
        if (!bus)
                return 0;
        r = sd_bus_call_method_async(bus, &i->slot, "org.freedesktop.login1", "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", "Inhibit", inhibit_callback, i, "ssss",
                                     "sleep:shutdown", "imapid", why, "block");
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "Failed to ask logind for an inhibitor, ignoring: %m");
        return 0;
}

static void inhibitor_drop(Inhibitor *i) {
        /* An answer still on its way is dropped with its slot; its fd closes with the message. */
        i->slot = sd_bus_slot_unref(i->slot);
        if (i->fd >= 0)
                log_debug("Releasing the logind inhibitor.");
        i->fd = safe_close(i->fd);
}

void inhibitor_release(BusDaemon *d) {
        Inhibitor *i = d->inhibitor;

        if (!i || i->n_ref == 0) {
                log_debug("Inhibitor released more often than acquired, ignoring.");
                return;
        }
        if (--i->n_ref == 0)
                inhibitor_drop(i);
}

bool inhibitor_is_held(const BusDaemon *d) {
        return d->inhibitor && d->inhibitor->fd >= 0;
}

void inhibitor_done(BusDaemon *d) {
        if (!d->inhibitor)
                return;
        inhibitor_drop(d->inhibitor);
        free(d->inhibitor);
        d->inhibitor = NULL;
}
